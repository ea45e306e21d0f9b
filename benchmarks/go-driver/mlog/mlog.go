// Package mlog stands in for monis.app/mlog, which the Go module proxy here does not serve: the
// few functions the Secrets Store CSI Driver calls, over klog (text lines only).
package mlog

import (
	"context"
	"flag"
	"os"
	"strconv"

	"k8s.io/klog/v2"
)

// LogFormat is the driver's choice of log line format.
type LogFormat string

const (
	FormatText LogFormat = "text"
	FormatJSON LogFormat = "json"
)

// Setup returns the function that flushes the log at exit.
func Setup() func() { return klog.Flush }

// ValidateAndSetKlogLevelAndFormatGlobally sets klog's verbosity; the format stays text.
func ValidateAndSetKlogLevelAndFormatGlobally(_ context.Context, level klog.Level, _ LogFormat) error {
	fs := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(fs)
	return fs.Set("v", strconv.Itoa(int(level)))
}

// Error logs err with msg.
func Error(msg string, err error, keysAndValues ...any) { klog.ErrorS(err, msg, keysAndValues...) }

// Fatal logs err and exits.
func Fatal(err error, keysAndValues ...any) {
	klog.ErrorS(err, "fatal", keysAndValues...)
	klog.Flush()
	os.Exit(1)
}
