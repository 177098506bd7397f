// Command hello is the hello function of fc-rust written in Go, for `make bench` to measure
// beside ours: the standard library only, the same FC protocol (POST /invoke, the answer's
// x-fc-status), the same JSON answer, and the same lines on stdout per invocation (FC's Start
// and End markers around one log line carrying the time and the request id).
package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"time"
)

type request struct {
	Name *string `json:"name"`
}

type greeting struct {
	Message   string `json:"message"`
	RequestID string `json:"request_id"`
}

// logLine prints one line as fc-runtime does: `<RFC 3339 UTC time> <request id> [INFO] <text>`.
// os.Stdout is unbuffered: one write per line, as FC reads it.
func logLine(requestID, text string) {
	now := time.Now().UTC().Format("2006-01-02T15:04:05.000Z")
	fmt.Fprintf(os.Stdout, "%s %s [INFO] %s\n", now, requestID, text)
}

func fail(w http.ResponseWriter, status int, message string) {
	body, _ := json.Marshal(map[string]string{"errorMessage": message, "errorType": "BadRequest"})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("x-fc-status", "404")
	w.WriteHeader(status)
	w.Write(body)
}

func invoke(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		fail(w, http.StatusMethodNotAllowed, "/invoke takes POST")
		return
	}
	id := r.Header.Get("x-fc-request-id")
	fmt.Fprintf(os.Stdout, "FC Invoke Start RequestId: %s\n", id)
	defer fmt.Fprintf(os.Stdout, "FC Invoke End RequestId: %s\n", id)
	var req request
	decoder := json.NewDecoder(r.Body)
	decoder.DisallowUnknownFields()
	if err := decoder.Decode(&req); err != nil {
		fail(w, http.StatusNotFound, err.Error())
		return
	}
	name := "world"
	if req.Name != nil {
		name = *req.Name
	}
	logLine(id, "greeting "+name)
	body, _ := json.Marshal(greeting{Message: "Hello, " + name + "!", RequestID: id})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("x-fc-status", "200")
	w.Write(body)
}

func main() {
	port := os.Getenv("FC_CUSTOM_LISTEN_PORT")
	if port == "" {
		port = os.Getenv("FC_SERVER_PORT")
	}
	if port == "" {
		port = "9000"
	}
	http.HandleFunc("/invoke", invoke)
	logLine("-", "listening on 0.0.0.0:"+port)
	if err := http.ListenAndServe("0.0.0.0:"+port, nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
