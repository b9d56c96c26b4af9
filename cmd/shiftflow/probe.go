package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"time"
)

func init() {
	register(command{name: "probe", summary: "exit 0 when a URL answers 2xx (container health checks without curl)", run: runProbe})
}

func runProbe(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("probe", flag.ContinueOnError)
	timeout := fs.Duration("timeout", 3*time.Second, "request timeout")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	url := "http://127.0.0.1:8080/ready"
	if fs.NArg() == 1 {
		url = fs.Arg(0)
	} else if fs.NArg() > 1 {
		fmt.Fprintln(os.Stderr, "usage: shiftflow probe [--timeout 3s] [URL]")
		return exitUsage
	}
	client := &http.Client{Timeout: *timeout}
	res, err := client.Get(url)
	if err != nil {
		fmt.Fprintln(os.Stderr, "probe:", err)
		return exitFail
	}
	res.Body.Close()
	if res.StatusCode < 200 || res.StatusCode > 299 {
		fmt.Fprintf(os.Stderr, "probe: %s answered %d\n", url, res.StatusCode)
		return exitFail
	}
	return exitOK
}
