// Command http is hello-http's `GET /hello/{name}` written in Go, for `make bench` to measure
// beside ours: the standard library's net/http only, answering FC's HTTP-trigger requests as FC
// forwards them (the client's method and path, FC's x-fc-* headers added) with
// `{"message":"Hello, {name}!"}`, the name percent-decoded (net/http decodes the path), with
// FC's Start and End markers on stdout around each request, as fc-runtime prints them.
package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
)

type greeting struct {
	Message string `json:"message"`
}

func hello(w http.ResponseWriter, r *http.Request) {
	id := r.Header.Get("x-fc-request-id")
	fmt.Fprintf(os.Stdout, "FC Invoke Start RequestId: %s\n", id)
	defer fmt.Fprintf(os.Stdout, "FC Invoke End RequestId: %s\n", id)
	name := strings.TrimPrefix(r.URL.Path, "/hello/")
	if r.Method != http.MethodGet || name == "" || strings.Contains(name, "/") {
		http.NotFound(w, r)
		return
	}
	body, _ := json.Marshal(greeting{Message: "Hello, " + name + "!"})
	w.Header().Set("Content-Type", "application/json")
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
	http.HandleFunc("/hello/", hello)
	if err := http.ListenAndServe("0.0.0.0:"+port, nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
