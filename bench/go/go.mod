module fcrust.local/bench/hello

go 1.19
