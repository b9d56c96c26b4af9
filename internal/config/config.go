// Package config reads shiftflow's settings from environment variables.
// Names follow the seed systems' manuals (APP_PORT, DB_HOST, LOG_LEVEL, ...)
// so existing deployment files keep working.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/kelseyhightower/envconfig"

	"github.com/shiftflow/shiftflow/internal/netguard"
)

// Config is the whole effective configuration. Secrets carry `secret:"true"`
// so `shiftflow config` can redact them.
type Config struct {
	AppPort int    `envconfig:"APP_PORT" default:"8080" desc:"HTTP port of the API"`
	AppEnv  string `envconfig:"APP_ENV" default:"development" desc:"development | test | staging | production"`

	LogLevel  string `envconfig:"LOG_LEVEL" default:"info" desc:"debug | info | warn | error"`
	LogFormat string `envconfig:"LOG_FORMAT" default:"json" desc:"json | text"`
	LogFile   string `envconfig:"LOG_FILE" desc:"also append logs to this file (reopened on SIGHUP for logrotate)"`

	DatabaseURL       string        `envconfig:"DATABASE_URL" secret:"true" desc:"PostgreSQL URL; overrides DB_*"`
	DBHost            string        `envconfig:"DB_HOST" default:"localhost" desc:"database host"`
	DBPort            int           `envconfig:"DB_PORT" default:"5432" desc:"database port"`
	DBName            string        `envconfig:"DB_NAME" default:"shiftflow" desc:"database name"`
	DBUser            string        `envconfig:"DB_USER" default:"shiftflow" desc:"database user"`
	DBPassword        string        `envconfig:"DB_PASSWORD" secret:"true" desc:"database password"`
	DBSSLMode         string        `envconfig:"DB_SSLMODE" default:"prefer" desc:"disable | allow | prefer | require | verify-ca | verify-full"`
	DBMaxConns        int32         `envconfig:"DB_MAX_CONNS" default:"20" desc:"pool size"`
	DBMinConns        int32         `envconfig:"DB_MIN_CONNS" default:"2" desc:"connections kept open"`
	DBMaxConnLifetime time.Duration `envconfig:"DB_MAX_CONN_LIFETIME" default:"1h" desc:"recycle connections after"`
	DBMaxConnIdleTime time.Duration `envconfig:"DB_MAX_CONN_IDLE_TIME" default:"5m" desc:"close idle connections after"`

	NATSURL             string        `envconfig:"NATS_URL" desc:"NATS server URL(s), comma-separated; empty = embedded JetStream server"`
	NATSStoreDir        string        `envconfig:"NATS_STORE_DIR" default:".data/nats" desc:"JetStream store of the embedded server"`
	NATSEmbeddedPort    int           `envconfig:"NATS_EMBEDDED_PORT" default:"4222" desc:"client port of the embedded server (-1 = random), for subscribers outside this process"`
	NATSReplicas        int           `envconfig:"NATS_REPLICAS" default:"1" desc:"stream replicas (3 on a 3-node cluster)"`
	NATSDuplicateWindow time.Duration `envconfig:"NATS_DUPLICATE_WINDOW" default:"2m" desc:"how long the streams remember Nats-Msg-Id values to drop a re-published message (about 130 bytes of server memory per message in the window)"`
	EventsMaxAge        time.Duration `envconfig:"EVENTS_MAX_AGE" default:"168h" desc:"how long the EVENTS stream retains events"`

	WorkerApprovalConcurrency int           `envconfig:"WORKER_APPROVAL_CONCURRENCY" default:"4" desc:"concurrent approval transactions per process, each applying up to WORKER_BATCH_SIZE commands"`
	WorkerScheduleConcurrency int           `envconfig:"WORKER_SCHEDULE_CONCURRENCY" desc:"concurrent solver runs per process (default: CPU cores)"`
	WorkerWebhookConcurrency  int           `envconfig:"WORKER_WEBHOOK_CONCURRENCY" default:"32" desc:"in-flight webhook deliveries per process"`
	WorkerFanoutConcurrency   int           `envconfig:"WORKER_FANOUT_CONCURRENCY" default:"2" desc:"concurrent transactions matching events to webhook endpoints per process, each up to WORKER_BATCH_SIZE events"`
	WorkerReplanConcurrency   int           `envconfig:"WORKER_REPLAN_CONCURRENCY" default:"2" desc:"concurrent re-plan triggers per process"`
	WorkerMaxDeliver          int           `envconfig:"WORKER_MAX_DELIVER" default:"8" desc:"deliveries before a command becomes a dead letter"`
	WorkerBatchSize           int           `envconfig:"WORKER_BATCH_SIZE" default:"64" desc:"approval and webhook fan-out workers apply up to this many waiting messages per transaction"`
	WorkerAckWait             time.Duration `envconfig:"WORKER_ACK_WAIT" default:"30s" desc:"redelivery timeout without ack or progress"`

	AdminToken string `envconfig:"ADMIN_TOKEN" secret:"true" desc:"bearer token for /api/v1/admin routes (besides admin-scoped keys)"`
	AdminAddr  string `envconfig:"ADMIN_ADDR" default:"127.0.0.1:6060" desc:"pprof listener; empty disables it"`

	ShutdownTimeout time.Duration `envconfig:"SHUTDOWN_TIMEOUT" default:"30s" desc:"time allowed to finish in-flight work on SIGTERM"`

	HTTPMaxBodyBytes         int64         `envconfig:"HTTP_MAX_BODY_BYTES" default:"1048576" desc:"request body limit (413 above)"`
	RateLimitRPS             float64       `envconfig:"RATE_LIMIT_RPS" default:"50" desc:"sustained requests per second per API key"`
	RateLimitBurst           int           `envconfig:"RATE_LIMIT_BURST" default:"100" desc:"burst per API key"`
	IdempotencyTTL           time.Duration `envconfig:"IDEMPOTENCY_TTL" default:"24h" desc:"how long Idempotency-Key responses are replayed"`
	OutboxPollInterval       time.Duration `envconfig:"OUTBOX_POLL_INTERVAL" default:"1s" desc:"outbox relay fallback poll (it also wakes on NOTIFY)"`
	OutboxForwardGrace       time.Duration `envconfig:"OUTBOX_FORWARD_GRACE" default:"5s" desc:"worker pools publish their events right after commit; the relay takes over any still unpublished after this long (0: the relay publishes everything)"`
	WebhookAllowCIDRs        string        `envconfig:"WEBHOOK_ALLOW_CIDRS" desc:"comma-separated CIDRs webhooks may reach despite the SSRF guard (e.g. 10.1.2.0/24)"`
	WebhookHTTPSOnly         bool          `envconfig:"WEBHOOK_HTTPS_ONLY" default:"false" desc:"refuse http:// webhook URLs"`
	WebhookTimeout           time.Duration `envconfig:"WEBHOOK_TIMEOUT" default:"15s" desc:"timeout of one webhook request"`
	WebhookRetrySchedule     string        `envconfig:"WEBHOOK_RETRY_SCHEDULE" default:"0s,5s,5m,30m,2h,5h,10h,10h" desc:"delays before each delivery attempt; after the last a delivery is a dead letter"`
	WebhookDisableAfter      time.Duration `envconfig:"WEBHOOK_DISABLE_AFTER" default:"120h" desc:"an endpoint failing every attempt this long is disabled"`
	EventsRetention          time.Duration `envconfig:"EVENTS_RETENTION" default:"720h" desc:"published events older than this are deleted by the cleanup job"`
	AuditRetention           time.Duration `envconfig:"AUDIT_RETENTION" default:"2160h" desc:"audit logs older than this are deleted"`
	DeadLetterRetention      time.Duration `envconfig:"DEAD_LETTER_RETENTION" default:"720h" desc:"resolved or discarded dead letters older than this are deleted"`
	CleanupInterval          time.Duration `envconfig:"CLEANUP_INTERVAL" default:"1h" desc:"how often the retention cleanup runs (one process at a time)"`
	ScheduleMaxEmployees     int           `envconfig:"SCHEDULE_MAX_EMPLOYEES" default:"2000" desc:"largest schedule request (employees)"`
	ScheduleMaxDays          int           `envconfig:"SCHEDULE_MAX_DAYS" default:"366" desc:"longest schedule horizon (days)"`
	ScheduleMaxShiftTypes    int           `envconfig:"SCHEDULE_MAX_SHIFT_TYPES" default:"64" desc:"most shift types in one request"`
	ScheduleDefaultTimeLimit time.Duration `envconfig:"SCHEDULE_DEFAULT_TIME_LIMIT" default:"30s" desc:"solver time when a request names none"`
	ScheduleMaxTimeLimit     time.Duration `envconfig:"SCHEDULE_MAX_TIME_LIMIT" default:"10m" desc:"requested solver times are capped to this"`
	ScheduleSolverThreads    int           `envconfig:"SCHEDULE_SOLVER_THREADS" default:"1" desc:"threads per solve (WORKER_SCHEDULE_CONCURRENCY solves run side by side)"`
	ReplanTimeLimit          time.Duration `envconfig:"REPLAN_TIME_LIMIT" default:"10s" desc:"solver time of an automatic re-plan"`
	ReplanChangeWeight       string        `envconfig:"REPLAN_CHANGE_WEIGHT" default:"auto" desc:"penalty per assignment a re-plan changes: auto is a quarter of the roster's smallest under-cover weight, so a shift the leave uncovers is filled when that takes at most three changes; a number fixes it (high keeps the published roster even with gaps, low lets a re-plan also improve it)"`
	TemplateCacheTTL         time.Duration `envconfig:"TEMPLATE_CACHE_TTL" default:"1h" desc:"how long the latest version of an approval template is cached (updates invalidate it at once)"`
	ApprovalStateCacheSize   int           `envconfig:"APPROVAL_STATE_CACHE" default:"20000" desc:"approval states the approval worker keeps in memory for itself and the API of the same process (0: none)"`
	PreferWaitMax            time.Duration `envconfig:"PREFER_WAIT_MAX" default:"30s" desc:"longest Prefer: wait an API call may ask for"`
}

// Error is a configuration problem naming the variable and what it expected.
type Error struct {
	Var      string
	Value    string
	Expected string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s=%q: expected %s", e.Var, e.Value, e.Expected)
}

// Load reads the environment, applies defaults and validates every value.
func Load() (*Config, error) {
	var c Config
	if err := envconfig.Process("", &c); err != nil {
		var pe *envconfig.ParseError
		if errors.As(err, &pe) {
			return nil, &Error{Var: pe.KeyName, Value: pe.Value, Expected: describeType(pe.TypeName)}
		}
		return nil, err
	}
	if c.WorkerScheduleConcurrency == 0 {
		c.WorkerScheduleConcurrency = runtime.NumCPU()
	}
	return &c, c.Validate()
}

func describeType(t string) string {
	switch t {
	case "int", "int32", "int64":
		return "an integer"
	case "float64":
		return "a number"
	case "Duration", "time.Duration":
		return "a duration such as 30s, 5m or 1h"
	case "bool":
		return "true or false"
	}
	return "a value of type " + t
}

// ReplanChangeWeightValue reads REPLAN_CHANGE_WEIGHT: auto, or the fixed
// weight; ok is false when it is neither.
func (c *Config) ReplanChangeWeightValue() (weight int, auto, ok bool) {
	if c.ReplanChangeWeight == "auto" {
		return 0, true, true
	}
	n, err := strconv.Atoi(c.ReplanChangeWeight)
	return n, false, err == nil && n >= 0
}

// Validate checks ranges and enumerations envconfig cannot express.
func (c *Config) Validate() error {
	var errs []error
	bad := func(v, val, exp string) { errs = append(errs, &Error{Var: v, Value: val, Expected: exp}) }
	oneOf := func(v, val string, allowed ...string) {
		for _, a := range allowed {
			if val == a {
				return
			}
		}
		bad(v, val, "one of "+strings.Join(allowed, ", "))
	}
	if c.AppPort < 1 || c.AppPort > 65535 {
		bad("APP_PORT", strconv.Itoa(c.AppPort), "a port between 1 and 65535")
	}
	oneOf("APP_ENV", c.AppEnv, "development", "test", "staging", "production")
	oneOf("LOG_LEVEL", c.LogLevel, "debug", "info", "warn", "error")
	oneOf("LOG_FORMAT", c.LogFormat, "json", "text")
	if c.DatabaseURL != "" {
		if u, err := url.Parse(c.DatabaseURL); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			bad("DATABASE_URL", "(redacted)", "a postgres:// or postgresql:// URL")
		}
	}
	if c.NATSEmbeddedPort != -1 && (c.NATSEmbeddedPort < 1 || c.NATSEmbeddedPort > 65535) {
		bad("NATS_EMBEDDED_PORT", strconv.Itoa(c.NATSEmbeddedPort), "a port between 1 and 65535, or -1 for a random port")
	}
	if c.DBPort < 1 || c.DBPort > 65535 {
		bad("DB_PORT", strconv.Itoa(c.DBPort), "a port between 1 and 65535")
	}
	oneOf("DB_SSLMODE", c.DBSSLMode, "disable", "allow", "prefer", "require", "verify-ca", "verify-full")
	if c.DBMaxConns < 1 {
		bad("DB_MAX_CONNS", strconv.Itoa(int(c.DBMaxConns)), "at least 1")
	}
	if c.DBMinConns < 0 || c.DBMinConns > c.DBMaxConns {
		bad("DB_MIN_CONNS", strconv.Itoa(int(c.DBMinConns)), "between 0 and DB_MAX_CONNS")
	}
	positive := func(v string, d time.Duration) {
		if d <= 0 {
			bad(v, d.String(), "a positive duration")
		}
	}
	positive("DB_MAX_CONN_LIFETIME", c.DBMaxConnLifetime)
	positive("DB_MAX_CONN_IDLE_TIME", c.DBMaxConnIdleTime)
	positive("SHUTDOWN_TIMEOUT", c.ShutdownTimeout)
	positive("EVENTS_MAX_AGE", c.EventsMaxAge)
	positive("WORKER_ACK_WAIT", c.WorkerAckWait)
	positive("IDEMPOTENCY_TTL", c.IdempotencyTTL)
	positive("OUTBOX_POLL_INTERVAL", c.OutboxPollInterval)
	if c.NATSDuplicateWindow < time.Minute || c.NATSDuplicateWindow > 24*time.Hour {
		bad("NATS_DUPLICATE_WINDOW", c.NATSDuplicateWindow.String(), "between 1m and 24h")
	}
	// Well inside the streams' duplicate window: the relay's re-publish of
	// a forwarded event must be recognised as a duplicate.
	if limit := min(5*time.Minute, c.NATSDuplicateWindow/2); c.OutboxForwardGrace < 0 || c.OutboxForwardGrace > limit {
		bad("OUTBOX_FORWARD_GRACE", c.OutboxForwardGrace.String(), "between 0 (off) and "+shortDuration(limit)+" (half of NATS_DUPLICATE_WINDOW, at most 5m)")
	}
	positive("TEMPLATE_CACHE_TTL", c.TemplateCacheTTL)
	positive("SCHEDULE_DEFAULT_TIME_LIMIT", c.ScheduleDefaultTimeLimit)
	positive("SCHEDULE_MAX_TIME_LIMIT", c.ScheduleMaxTimeLimit)
	positive("REPLAN_TIME_LIMIT", c.ReplanTimeLimit)
	for v, n := range map[string]int{"SCHEDULE_MAX_EMPLOYEES": c.ScheduleMaxEmployees, "SCHEDULE_MAX_DAYS": c.ScheduleMaxDays,
		"SCHEDULE_MAX_SHIFT_TYPES": c.ScheduleMaxShiftTypes, "SCHEDULE_SOLVER_THREADS": c.ScheduleSolverThreads} {
		if n < 1 {
			bad(v, strconv.Itoa(n), "a positive integer")
		}
	}
	if c.ApprovalStateCacheSize < 0 {
		bad("APPROVAL_STATE_CACHE", strconv.Itoa(c.ApprovalStateCacheSize), "zero or more")
	}
	if _, _, ok := c.ReplanChangeWeightValue(); !ok {
		bad("REPLAN_CHANGE_WEIGHT", c.ReplanChangeWeight, "auto, or an integer zero or more")
	}
	positive("PREFER_WAIT_MAX", c.PreferWaitMax)
	positive("WEBHOOK_TIMEOUT", c.WebhookTimeout)
	positive("WEBHOOK_DISABLE_AFTER", c.WebhookDisableAfter)
	positive("EVENTS_RETENTION", c.EventsRetention)
	positive("AUDIT_RETENTION", c.AuditRetention)
	positive("DEAD_LETTER_RETENTION", c.DeadLetterRetention)
	positive("CLEANUP_INTERVAL", c.CleanupInterval)
	if _, err := netguard.ParseCIDRs(c.WebhookAllowCIDRs); err != nil {
		bad("WEBHOOK_ALLOW_CIDRS", c.WebhookAllowCIDRs, "comma-separated CIDRs ("+err.Error()+")")
	}
	if _, err := ParseSchedule(c.WebhookRetrySchedule); err != nil {
		bad("WEBHOOK_RETRY_SCHEDULE", c.WebhookRetrySchedule, "comma-separated durations starting with 0s ("+err.Error()+")")
	}
	if c.NATSReplicas != 1 && c.NATSReplicas != 3 && c.NATSReplicas != 5 {
		bad("NATS_REPLICAS", strconv.Itoa(c.NATSReplicas), "1, 3 or 5")
	}
	for v, n := range map[string]int{
		"WORKER_APPROVAL_CONCURRENCY": c.WorkerApprovalConcurrency,
		"WORKER_SCHEDULE_CONCURRENCY": c.WorkerScheduleConcurrency,
		"WORKER_WEBHOOK_CONCURRENCY":  c.WorkerWebhookConcurrency,
		"WORKER_FANOUT_CONCURRENCY":   c.WorkerFanoutConcurrency,
		"WORKER_REPLAN_CONCURRENCY":   c.WorkerReplanConcurrency,
	} {
		if n < 1 || n > 1024 {
			bad(v, strconv.Itoa(n), "an integer between 1 and 1024")
		}
	}
	if c.WorkerBatchSize < 1 || c.WorkerBatchSize > 1000 {
		bad("WORKER_BATCH_SIZE", strconv.Itoa(c.WorkerBatchSize), "an integer between 1 and 1000")
	}
	if c.WorkerMaxDeliver < 1 {
		bad("WORKER_MAX_DELIVER", strconv.Itoa(c.WorkerMaxDeliver), "at least 1")
	}
	if c.AdminAddr != "" {
		if _, _, err := net.SplitHostPort(c.AdminAddr); err != nil {
			bad("ADMIN_ADDR", c.AdminAddr, "host:port, e.g. 127.0.0.1:6060")
		}
	}
	if c.HTTPMaxBodyBytes < 1024 {
		bad("HTTP_MAX_BODY_BYTES", strconv.FormatInt(c.HTTPMaxBodyBytes, 10), "at least 1024")
	}
	if c.RateLimitRPS <= 0 {
		bad("RATE_LIMIT_RPS", strconv.FormatFloat(c.RateLimitRPS, 'f', -1, 64), "a positive number")
	}
	if c.RateLimitBurst < 1 {
		bad("RATE_LIMIT_BURST", strconv.Itoa(c.RateLimitBurst), "at least 1")
	}
	return errors.Join(errs...)
}

// PostgresURL is DATABASE_URL, or one built from the DB_* variables.
func (c *Config) PostgresURL() string {
	if c.DatabaseURL != "" {
		return c.DatabaseURL
	}
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(c.DBUser, c.DBPassword),
		Host:     net.JoinHostPort(c.DBHost, strconv.Itoa(c.DBPort)),
		Path:     "/" + c.DBName,
		RawQuery: "sslmode=" + url.QueryEscape(c.DBSSLMode),
	}
	if c.DBPassword == "" {
		u.User = url.User(c.DBUser)
	}
	return u.String()
}

// Setting is one row of the effective configuration.
type Setting struct {
	Var         string
	Value       string
	Secret      bool
	Description string
}

// Effective lists every variable with its value, secrets redacted.
func (c *Config) Effective() []Setting {
	v := reflect.ValueOf(c).Elem()
	t := v.Type()
	out := make([]Setting, 0, t.NumField())
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		s := Setting{Var: f.Tag.Get("envconfig"), Secret: f.Tag.Get("secret") == "true", Description: f.Tag.Get("desc")}
		s.Value = fmt.Sprint(v.Field(i).Interface())
		if s.Secret && s.Value != "" {
			s.Value = "********"
		}
		out = append(out, s)
	}
	return out
}

// Variables lists every environment variable shiftflow reads.
func Variables() []string {
	t := reflect.TypeOf(Config{})
	out := make([]string, 0, t.NumField())
	for i := 0; i < t.NumField(); i++ {
		out = append(out, t.Field(i).Tag.Get("envconfig"))
	}
	return out
}

// ParseSchedule reads a comma-separated list of delays, the first of which
// is the immediate attempt.
func ParseSchedule(s string) ([]time.Duration, error) {
	var out []time.Duration
	for i, part := range strings.Split(s, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(part))
		if err != nil {
			return nil, fmt.Errorf("entry %d: %v", i+1, err)
		}
		if d < 0 || (i == 0 && d != 0) {
			return nil, fmt.Errorf("entry %d: the first delay must be 0s and none negative", i+1)
		}
		out = append(out, d)
	}
	if len(out) < 1 || len(out) > 50 {
		return nil, fmt.Errorf("1 to 50 entries")
	}
	return out, nil
}

// shortDuration prints 1m or 90s rather than 1m0s.
func shortDuration(d time.Duration) string {
	out := d.String()
	if strings.HasSuffix(out, "m0s") {
		out = strings.TrimSuffix(out, "0s")
	}
	if strings.HasSuffix(out, "h0m") {
		out = strings.TrimSuffix(out, "0m")
	}
	return out
}
