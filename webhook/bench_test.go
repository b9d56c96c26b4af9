package webhook

import (
	"net/http"
	"testing"
	"time"
)

func benchBody() []byte {
	b := make([]byte, 1024)
	for i := range b {
		b[i] = 'a' + byte(i%26)
	}
	return b
}

func BenchmarkSign(b *testing.B) {
	s, err := NewSigner(NewSecret())
	if err != nil {
		b.Fatal(err)
	}
	body, now := benchBody(), time.Now()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Sign("evt_01J9ZQ7Y3K", now, body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSignRotation(b *testing.B) {
	s, err := NewSigner(NewSecret(), NewSecret())
	if err != nil {
		b.Fatal(err)
	}
	body, now := benchBody(), time.Now()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Sign("evt_01J9ZQ7Y3K", now, body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	secret := NewSecret()
	s, err := NewSigner(secret)
	if err != nil {
		b.Fatal(err)
	}
	v, err := NewVerifier(secret)
	if err != nil {
		b.Fatal(err)
	}
	body := benchBody()
	h := http.Header{}
	if err := s.SetHeaders(h, "evt_01J9ZQ7Y3K", time.Now(), body); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if err := v.Verify(h, body); err != nil {
			b.Fatal(err)
		}
	}
}
