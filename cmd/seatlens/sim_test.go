package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"testing"
	"time"
)

// TestSimFirstLine runs `seatlens sim` as a user would: the first stdout
// line is the contract scripts rely on, and the credentials it prints work.
func TestSimFirstLine(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"sim", "--users", "50", "--seed", "7"}, pw, io.Discard, func(string) string { return "" })
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`^seatlens-sim site=(http://127\.0\.0\.1:\d+) email=(\S+) token=(\S+)\n$`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("first line %q does not match the contract", line)
	}
	go io.Copy(io.Discard, pr)
	req, _ := http.NewRequest("GET", m[1]+"/rest/api/3/users/search?maxResults=100", nil)
	req.SetBasicAuth(m[2], m[3])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var users []map[string]any
	json.NewDecoder(resp.Body).Decode(&users)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || len(users) != 50 {
		t.Fatalf("users/search with the printed credentials: %d, %d users", resp.StatusCode, len(users))
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("sim did not stop")
	}
}

func TestSimRefusesBadFlags(t *testing.T) {
	for _, args := range [][]string{{"sim", "--synced-removal", "maybe"}, {"sim", "--users", "-1"}, {"sim", "--addr", "nope"}, {"sim", "--context-path", "wiki"}} {
		if _, _, err := runCmd(t, context.Background(), nil, args...); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}
