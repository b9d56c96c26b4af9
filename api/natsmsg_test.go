package api

import "github.com/nats-io/nats.go"

type natsMsg = nats.Msg

func newNatsMsg(subject string) *natsMsg { return nats.NewMsg(subject) }
