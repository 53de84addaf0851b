// Command confcal serves subscribable iCalendar feeds of conference
// schedules: the whole programme, a track, a speaker or any combination, in
// the subscriber's time zone, with Prometheus metrics for operators.
//
// Usage:
//
//	confcal [-addr :8080] [-schedule PATH|URL ...] [-schedule-tz ZONE] [-base-url URL] [-state FILE]
//
// Every flag has an environment fallback CONFCAL_<NAME> (e.g. CONFCAL_ADDR).
// With no -schedule, the embedded ICML 2022 DyNN workshop is served.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/confcal/confcal/feed"
	"github.com/confcal/confcal/fixtures"
	"github.com/confcal/confcal/internal/gcfloor"
	"github.com/confcal/confcal/timezone"
)

// version is set at build time (see .ci/build).
var version = "dev"

func main() {
	if err := run(context.Background(), os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "confcal:", err)
		os.Exit(1)
	}
}

// config is what the flags and environment say.
type config struct {
	addr        string
	schedules   []string
	scheduleTZ  string
	maxBytes    int64
	baseURL     string
	refresh     time.Duration
	maxAge      time.Duration
	cacheBytes  int64
	logFormat   string
	accessLog   bool
	heapFloor   int64
	healthcheck bool
	shutdown    time.Duration
	drain       time.Duration
	reload      time.Duration
	state       string
	keep        time.Duration
}

// stringList is a repeatable flag.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, " ") }
func (l *stringList) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// parseConfig reads flags, falling back to CONFCAL_<NAME> environment
// variables for flags not given on the command line.
func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	var schedules stringList
	fs.StringVar(&c.addr, "addr", ":8080", "address to listen on")
	fs.Var(&schedules, "schedule", "schedule to serve: a file path or http(s) URL of a schedule.json or schedule.xml as pretalx, frab, c3voc or pentabarf export them; repeat for several conferences (env: space-separated); default: the embedded DyNN workshop")
	fs.Func("schedule-tz", "IANA zone of schedules that name none (legacy pentabarf XML)", func(v string) error {
		// Checked here, not when a schedule needs it: a schedule that names
		// its own zone would never reveal a typo until one that does not.
		if _, err := timezone.Load(v); v != "" && err != nil {
			return err
		}
		c.scheduleTZ = v
		return nil
	})
	fs.Int64Var(&c.maxBytes, "schedule-max-bytes", feed.DefaultMaxBytes, "largest schedule to read, in bytes")
	fs.StringVar(&c.baseURL, "base-url", "", "public URL of the service, for links in feeds (default: from each request)")
	fs.DurationVar(&c.refresh, "refresh", feed.DefaultRefresh, "polling interval suggested to calendar clients")
	fs.DurationVar(&c.maxAge, "max-age", feed.DefaultMaxAge, "Cache-Control max-age of feeds, /schedule.json, the page and /embed, for clients and CDNs")
	fs.Int64Var(&c.cacheBytes, "cache-bytes", feed.DefaultCacheBytes, "byte budget of the render cache")
	fs.StringVar(&c.logFormat, "log-format", "text", "log format: text or json")
	fs.BoolVar(&c.accessLog, "access-log", true, "log a line per request (method, route, status, bytes, duration, client family, masked address)")
	fs.DurationVar(&c.reload, "reload-interval", time.Minute, "how often to re-read schedules for changes (files by content hash, URLs conditionally); 0 disables polling (SIGHUP still reloads)")
	fs.StringVar(&c.state, "state", "", "file of the change journal, which keeps SEQUENCE numbers, cancelled sessions and the last good copy of each schedule across restarts (default: in memory, from the first load)")
	fs.DurationVar(&c.keep, "keep-cancelled", feed.DefaultKeepCancelled, "how long a session that vanished from its schedule stays in feeds as cancelled")
	fs.Int64Var(&c.heapFloor, "heap-floor", 32<<20, "heap size, in bytes, below which the garbage collector does not run; 0 leaves it to GOGC; ignored when GOGC is set")
	fs.DurationVar(&c.drain, "drain-delay", 0, "on SIGTERM, how long to answer /readyz with 503 before closing the listener, so load balancers stop sending traffic first")
	fs.DurationVar(&c.shutdown, "shutdown-timeout", 15*time.Second, "how long in-flight requests may take to finish on SIGTERM")
	fs.BoolVar(&c.healthcheck, "healthcheck", false, "check the health of a running instance at -addr and exit (for container health checks)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: %s [flags]\n\nEvery flag may also be set as CONFCAL_<NAME>, e.g. CONFCAL_ADDR=:9000.\n\n", args[0])
		fs.PrintDefaults()
	}
	if err := fs.Parse(args[1:]); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, strayArgument(fs, args[1:])
	}
	set := make(map[string]bool)
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		env := "CONFCAL_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		v := getenv(env)
		if set[f.Name] || v == "" || err != nil {
			return
		}
		if f.Name == "schedule" {
			schedules = strings.Fields(v)
			return
		}
		if serr := fs.Set(f.Name, v); serr != nil {
			err = fmt.Errorf("%s=%q: %w", env, v, serr)
		}
	})
	if err != nil {
		return c, err
	}
	c.schedules = schedules
	return c, c.validate()
}

// validate checks what the flag types alone do not.
func (c config) validate() error {
	switch {
	case c.heapFloor < 0:
		return fmt.Errorf("-heap-floor %d: must be 0 or more bytes", c.heapFloor)
	case c.keep <= 0:
		return fmt.Errorf("-keep-cancelled %v: must be positive", c.keep)
	case c.logFormat != "text" && c.logFormat != "json":
		return fmt.Errorf("-log-format %q: use text or json", c.logFormat)
	}
	return nil
}

// strayArgument is the error for the first argument after the flags. When
// it follows a boolean flag it was meant as that flag's value, which the
// flag package takes only after "=".
func strayArgument(fs *flag.FlagSet, args []string) error {
	stray := fs.Arg(0)
	if i := len(args) - fs.NArg(); i > 0 && strings.HasPrefix(args[i-1], "-") && args[i-1] != "--" {
		name := strings.TrimLeft(args[i-1], "-")
		if f := fs.Lookup(name); f != nil && isBoolFlag(f) {
			return fmt.Errorf("unexpected argument %q after -%s; a boolean flag takes its value after '=': -%s=%s", stray, name, name, stray)
		}
	}
	return fmt.Errorf("unexpected argument %q; schedules are given with -schedule", stray)
}

// isBoolFlag reports whether f is a boolean flag, set by its name alone.
func isBoolFlag(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// run wires the service and blocks until ctx is cancelled, a termination
// signal arrives or the server fails.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	cfg, err := parseConfig(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	if cfg.healthcheck {
		return healthcheck(ctx, cfg.addr)
	}
	logs := newLogBuffer(stderr)
	defer logs.Flush()
	logger := newLogger(cfg.logFormat, logs)
	go logs.flushEvery(ctx, 200*time.Millisecond)

	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		buildInfo(),
	)
	reloader := feed.NewReloader(logger, reg, sources(cfg), feed.LoadOptions{TimeZone: cfg.scheduleTZ, MaxBytes: cfg.maxBytes})
	journal, err := openJournal(cfg, logger, reg)
	if err != nil {
		return err
	}
	defer journal.Close() // after the reload loop below has stopped
	reloader.SetJournal(journal)
	store, err := reloader.Start(ctx)
	if err != nil {
		return err
	}

	// With the schedules loaded the live heap is what serving needs: a few
	// megabytes for a conference. Polls allocate in net/http, and without
	// a floor the collector would run dozens of times a second under load.
	if cfg.heapFloor > 0 && getenv("GOGC") == "" {
		defer gcfloor.Start(uint64(cfg.heapFloor), 100)()
	}

	var draining atomic.Bool // set at shutdown, so load balancers stop sending traffic
	var accessLog *feed.AccessLog
	if cfg.accessLog {
		accessLog = feed.NewAccessLog(logs, cfg.logFormat == "json")
	}
	handler := feed.NewServer(logger, store, reg, feed.Options{
		BaseURL: cfg.baseURL, Refresh: cfg.refresh, MaxAge: cfg.maxAge, CacheBytes: cfg.cacheBytes,
		Ready: func() bool { return !draining.Load() }, AccessLog: accessLog,
	})
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	logger.Info("serving", "version", version, "addr", ln.Addr().String(), "conferences", strings.Join(store.Acronyms(), " "))
	fmt.Fprintf(stdout, "confcal serving %s on http://%s/\n", strings.Join(store.Acronyms(), ", "), displayAddr(ln.Addr()))

	// SIGHUP reloads the schedules; so does the poll timer. A HUP that
	// arrives while one is pending is dropped: the pending reload covers it.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	reloadCtx, stopReload := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { reloader.Run(reloadCtx, cfg.reload, hup) })
	defer func() { stopReload(); wg.Wait() }()

	return serve(ctx, newHTTPServer(handler, logger), ln, cfg, &draining, logger)
}

// newHTTPServer is the server for handler, with timeouts and a header
// limit for clients on the open internet.
func newHTTPServer(handler http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// serve serves on ln until ctx ends, then drains: /readyz answers 503 for
// cfg.drain (draining is set), then in-flight requests get cfg.shutdown
// to finish.
func serve(ctx context.Context, srv *http.Server, ln net.Listener, cfg config, draining *atomic.Bool, logger *slog.Logger) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	draining.Store(true)
	if cfg.drain > 0 {
		logger.Info("draining: /readyz answers 503", "for", cfg.drain)
		time.Sleep(cfg.drain)
	}
	logger.Info("shutting down", "timeout", cfg.shutdown)
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.shutdown)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// openJournal opens the change journal: the -state file, or one in memory.
// A damaged file is moved aside and replaced (see feed.OpenBoltJournal).
func openJournal(cfg config, logger *slog.Logger, reg prometheus.Registerer) (feed.Journal, error) {
	opts := feed.JournalOptions{KeepCancelled: cfg.keep, Logger: logger, Registerer: reg}
	if cfg.state == "" {
		return feed.NewMemoryJournal(opts), nil
	}
	j, err := feed.OpenBoltJournal(cfg.state, opts)
	if err != nil {
		return nil, err
	}
	return j, nil
}

// displayAddr is a listen address as a person would type it in a browser.
func displayAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok || !tcp.IP.IsUnspecified() {
		return a.String()
	}
	return net.JoinHostPort("localhost", strconv.Itoa(tcp.Port))
}

// buildInfo is the confcal_build_info metric: which build is running and
// which tz database it carries.
func buildInfo() prometheus.Collector {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "confcal_build_info",
		Help: "The running build: its version, Go version and embedded tz database; always 1.",
	}, []string{"version", "goversion", "tzdata"})
	g.WithLabelValues(version, runtime.Version(), timezone.TZDataVersion).Set(1)
	return g
}

// logBuffer batches log lines into fewer writes: with one access-log line
// per request, writing each on its own would cost a system call per poll.
// Lines reach the output within the flush interval, and at exit.
type logBuffer struct {
	mu sync.Mutex
	w  *bufio.Writer
}

func newLogBuffer(w io.Writer) *logBuffer { return &logBuffer{w: bufio.NewWriterSize(w, 64<<10)} }

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.w.Write(p)
}

// Flush writes out what is buffered.
func (b *logBuffer) Flush() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.w.Flush() // nowhere to report a failure to write the log
}

// flushEvery flushes on every tick until ctx ends.
func (b *logBuffer) flushEvery(ctx context.Context, d time.Duration) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			b.Flush()
		}
	}
}

func newLogger(format string, w io.Writer) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

// sources are the schedules to serve: those configured, or the embedded
// workshop when none is.
func sources(cfg config) []feed.Source {
	if len(cfg.schedules) == 0 {
		return []feed.Source{{Location: "embedded " + fixtures.Default, Embedded: fixtures.DyNN2022}}
	}
	out := make([]feed.Source, len(cfg.schedules))
	for i, loc := range cfg.schedules {
		out[i] = feed.Source{Location: loc}
	}
	return out
}

// healthcheck asks a running instance on addr for /healthz, so a container
// health check needs no shell or curl in the image.
func healthcheck(ctx context.Context, addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("healthcheck: -addr %q: %w", addr, err)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(host, port)+"/healthz", nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: /healthz answered %s", resp.Status)
	}
	return nil
}
