package main

import (
	"context"
	"log/slog"

	"mailfs/cache"
	"mailfs/imapsrc"
	"mailfs/imapsrc/pop3"
)

// source is what an opened account holds: a cache.Source to close.
type source interface {
	cache.Source
	Close() error
}

// sourceConfig is an account's server with the protocol to speak.
type sourceConfig struct {
	imapsrc.Config
	POP3     bool
	StateDir string // the cache folder, where POP3 keeps its UID map
}

func (c sourceConfig) dial(ctx context.Context, log *slog.Logger) (source, error) {
	if c.POP3 {
		return pop3.Dial(ctx, c.Config, c.StateDir, log)
	}
	return imapsrc.Dial(ctx, c.Config, log)
}

func (c sourceConfig) new(log *slog.Logger) (source, error) {
	if c.POP3 {
		return pop3.New(c.Config, c.StateDir, log)
	}
	return imapsrc.New(c.Config, log)
}
