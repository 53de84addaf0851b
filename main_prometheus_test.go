package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestPrometheusScrapesRun runs the service and a real Prometheus server on
// loopback: Prometheus must scrape /metrics and read back exactly the feed
// requests made, and every query in deploy/ (dashboard panels and variables,
// alerting rules) must parse and name only metrics the service exports.
//
// It needs Debian's prometheus package (.ci/check-ops installs it); without
// it the test skips, except in CI, where it fails.
func TestPrometheusScrapesRun(t *testing.T) {
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no prometheus binary in CI: %v (apt-get install prometheus)", err)
		}
		t.Skip("no prometheus binary; apt-get install prometheus to run this test")
	}
	alerts, err := filepath.Abs(filepath.Join("deploy", "prometheus", "alerts.yml"))
	if err != nil {
		t.Fatal(err)
	}

	inst := start(t, nil)
	target := strings.TrimPrefix(inst.url, "http://")

	// Three feed requests as Google Calendar makes them: two variants, then
	// a conditional poll of the first.
	const google = "Google-Calendar-Importer"
	resp, _ := fetch(t, inst.url+"/tracks/spotlight.ics", map[string]string{"User-Agent": google})
	etag := resp.Header.Get("ETag")
	fetch(t, inst.url+"/feed.ics?tz=Europe/Berlin", map[string]string{"User-Agent": google})
	if resp, _ := fetch(t, inst.url+"/tracks/spotlight.ics", map[string]string{"User-Agent": google, "If-None-Match": etag}); resp.StatusCode != http.StatusNotModified {
		t.Fatalf("conditional poll answered %d, want 304", resp.StatusCode)
	}
	fetch(t, inst.url+"/feed.ics", map[string]string{"User-Agent": "curl/8"}) // not Google: must not count
	const googleRequests = "3"

	dir := t.TempDir()
	config := filepath.Join(dir, "prometheus.yml")
	writeFileT(t, config, fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - %q
scrape_configs:
  - job_name: confcal
    static_configs:
      - targets: [%q]
`, alerts, target))
	api := startPrometheus(t, bin, config, filepath.Join(dir, "tsdb"))

	waitForValue(t, api, `sum(confcal_feed_requests_total{client="google"})`, googleRequests, 30*time.Second)
	waitForValue(t, api, `confcal_feed_requests_total{client="google",code="304"}`, "1", 5*time.Second)
	waitForValue(t, api, `up{job="confcal"}`, "1", 5*time.Second)

	// Every metric name the dashboard and the alerts use must exist: a typo
	// in a name is no syntax error, just a panel that stays empty forever.
	var names []string
	if err := getJSON(api+"/label/__name__/values", &names); err != nil {
		t.Fatal(err)
	}
	exprs := dashboardExprs(t, filepath.Join("deploy", "grafana", "confcal.json"))
	exprs = append(exprs, alertExprs(t, alerts)...)
	metricName := regexp.MustCompile(`\b(?:confcal|process|go)_[a-z0-9_]+\b|\bup\b`)
	t.Logf("checking %d queries from the dashboard and %s", len(exprs), alerts)
	for _, e := range exprs {
		if err := query(api, e.expr, nil); err != nil {
			t.Errorf("%s: %v\n%s", e.where, err, e.expr)
			continue
		}
		for _, name := range metricName.FindAllString(e.expr, -1) {
			base := strings.TrimSuffix(name, "_bucket") // histograms are exported as _bucket/_sum/_count
			if !slices.Contains(names, name) && !slices.Contains(names, base+"_bucket") {
				t.Errorf("%s: metric %s is not exported by the service\n%s", e.where, name, e.expr)
			}
		}
	}

	// The rules file loads, and each rule evaluates without error.
	var rules struct {
		Groups []struct {
			Rules []struct {
				Name, Health, LastError string
			}
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if err := getJSON(api+"/rules", &rules); err != nil {
			t.Fatal(err)
		}
		var n, ok int
		var failed []string
		for _, g := range rules.Groups {
			for _, r := range g.Rules {
				n++
				switch r.Health {
				case "ok":
					ok++
				case "err":
					failed = append(failed, r.Name+": "+r.LastError)
				}
			}
		}
		if n == 0 {
			t.Fatalf("no rules loaded from %s", alerts)
		}
		if len(failed) > 0 {
			t.Fatalf("rules fail to evaluate:\n%s", strings.Join(failed, "\n"))
		}
		if ok == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d rules evaluated after 5s", ok, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// startPrometheus runs a Prometheus server with config on a free loopback
// port until the test ends, and returns the base URL of its HTTP API once it
// is ready.
func startPrometheus(t *testing.T, bin, config, tsdb string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	var out syncBuffer
	cmd := exec.Command(bin, "--config.file="+config, "--storage.tsdb.path="+tsdb,
		"--web.listen-address="+addr, "--log.level=warn")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("prometheus output:\n%s", &out)
		}
	})
	base := "http://" + addr
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			// Put the result back for the cleanup, which logs the output.
			exited <- err
			t.Fatalf("prometheus exited: %v", err)
		default:
		}
		if resp, err := http.Get(base + "/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base + "/api/v1"
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("prometheus not ready after 15s:\n%s", &out)
	return ""
}

// sample is one element of an instant vector from the query API.
type sample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"` // [unix time, "value"]
}

// query runs an instant query; a syntax error is the API's 400 bad_data.
// Vector results are stored in v when it is not nil.
func query(api, expr string, v *[]sample) error {
	var data struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	}
	if err := getJSON(api+"/query?"+url.Values{"query": {expr}}.Encode(), &data); err != nil {
		return err
	}
	if v == nil {
		return nil
	}
	if data.ResultType != "vector" {
		return fmt.Errorf("result type %s, want vector", data.ResultType)
	}
	return json.Unmarshal(data.Result, v)
}

// waitForValue polls expr until it is a single sample with value want.
func waitForValue(t *testing.T, api, expr, want string, timeout time.Duration) {
	t.Helper()
	var got []sample
	var err error
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		got = nil
		err = query(api, expr, &got)
		if err == nil && len(got) == 1 && got[0].Value[1] == want {
			return
		}
	}
	t.Fatalf("%s: got %v (err %v), want one sample of value %s after %s", expr, got, err, want, timeout)
}

// getJSON GETs a Prometheus API URL and decodes the data of a success
// answer into v; an error answer becomes an error naming its type.
func getJSON(u string, v any) error {
	resp, err := http.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	var r struct {
		Status    string          `json:"status"`
		Data      json.RawMessage `json:"data"`
		ErrorType string          `json:"errorType"`
		Error     string          `json:"error"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return fmt.Errorf("%s: %d %s: %w", u, resp.StatusCode, body, err)
	}
	if r.Status != "success" {
		return fmt.Errorf("%d %s: %s", resp.StatusCode, r.ErrorType, r.Error)
	}
	return json.Unmarshal(r.Data, v)
}

// located is a query and where it was found.
type located struct {
	where, expr string
}

// grafanaVars are the concrete values the dashboard's variables take for
// the check; Grafana's $__ variables get typical values.
var grafanaVars = map[string]string{
	"job":             "confcal",
	"instance":        ".*",
	"conference":      ".*",
	"__rate_interval": "1m",
	"__interval":      "15s",
	"__range":         "1h",
}

// dashboardExprs returns the queries of every panel target and query
// variable of a Grafana dashboard, with variables replaced.
func dashboardExprs(t *testing.T, path string) []located {
	t.Helper()
	type panel struct {
		ID      int     `json:"id"`
		Title   string  `json:"title"`
		Panels  []panel `json:"panels"`
		Targets []struct {
			RefID string `json:"refId"`
			Expr  string `json:"expr"`
		} `json:"targets"`
	}
	var d struct {
		Panels     []panel `json:"panels"`
		Templating struct {
			List []struct {
				Name  string          `json:"name"`
				Type  string          `json:"type"`
				Query json.RawMessage `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var out []located
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			for _, tg := range p.Targets {
				out = append(out, located{fmt.Sprintf("%s: panel %d %q target %s", path, p.ID, p.Title, tg.RefID), substVars(t, tg.Expr)})
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	labelValues := regexp.MustCompile(`^label_values\((.+),\s*\w+\)$`)
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		var q string
		if json.Unmarshal(v.Query, &q) != nil {
			var obj struct{ Query string }
			if err := json.Unmarshal(v.Query, &obj); err != nil {
				t.Fatalf("%s: variable %s: %v", path, v.Name, err)
			}
			q = obj.Query
		}
		m := labelValues.FindStringSubmatch(q)
		if m == nil {
			t.Errorf("%s: variable %s: query %q is not label_values(selector, label)", path, v.Name, q)
			continue
		}
		out = append(out, located{fmt.Sprintf("%s: variable %s", path, v.Name), substVars(t, m[1])})
	}
	if len(out) == 0 {
		t.Fatalf("%s: no queries", path)
	}
	return out
}

// substVars replaces Grafana's $name, ${name} and ${name:format} by the
// values in grafanaVars.
func substVars(t *testing.T, expr string) string {
	t.Helper()
	re := regexp.MustCompile(`\$\{(\w+)(?::\w+)?\}|\$(\w+)`)
	return re.ReplaceAllStringFunc(expr, func(s string) string {
		m := re.FindStringSubmatch(s)
		name := m[1] + m[2]
		v, ok := grafanaVars[name]
		if !ok {
			t.Errorf("no value for Grafana variable %s in %s", s, expr)
		}
		return v
	})
}

// alertExprs returns the expr of every rule in a Prometheus rules file. It
// reads the two shapes the file uses, "expr: <one line>" and "expr: |"
// followed by a more indented block, and checks that it found one expr per
// rule, so a file written otherwise fails loudly instead of going unchecked.
func alertExprs(t *testing.T, path string) []located {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []located
	var rules int
	var block *strings.Builder
	var blockIndent int
	var lineNo, start int
	flush := func() {
		if block != nil {
			out = append(out, located{fmt.Sprintf("%s:%d", path, start), block.String()})
			block = nil
		}
	}
	indent := func(s string) int { return len(s) - len(strings.TrimLeft(s, " ")) }
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		lineNo++
		trimmed := strings.TrimSpace(line)
		if block != nil {
			if trimmed == "" || indent(line) > blockIndent {
				block.WriteString(trimmed + "\n")
				continue
			}
			flush()
		}
		if strings.HasPrefix(trimmed, "- alert:") || strings.HasPrefix(trimmed, "- record:") {
			rules++
		}
		rest, ok := strings.CutPrefix(trimmed, "expr:")
		if !ok {
			continue
		}
		switch rest = strings.TrimSpace(rest); rest {
		case "|", "|-", ">", ">-":
			block, blockIndent, start = &strings.Builder{}, indent(line), lineNo
		default:
			out = append(out, located{fmt.Sprintf("%s:%d", path, lineNo), strings.Trim(rest, `'`)})
		}
	}
	flush()
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) != rules || rules == 0 {
		t.Fatalf("%s: found %d exprs for %d rules", path, len(out), rules)
	}
	return out
}

func writeFileT(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}
