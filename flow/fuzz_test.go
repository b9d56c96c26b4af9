package flow

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// sampleForm builds a form that satisfies t's schema and kind rules.
func sampleForm(t *Template) map[string]any {
	f := map[string]any{}
	for _, fd := range t.Form {
		switch fd.Type {
		case TypeString:
			f[fd.Name] = "text"
		case TypeNumber, TypeInteger:
			f[fd.Name] = 5.0
		case TypeBoolean:
			f[fd.Name] = true
		case TypeDate:
			f[fd.Name] = "2026-03-02"
		case TypeEnum:
			if len(fd.Enum) > 0 {
				f[fd.Name] = fd.Enum[0]
			}
		case TypePerson:
			f[fd.Name] = "bob"
		case TypeAttachments:
			f[fd.Name] = []any{"ref"}
		}
	}
	if t.Kind == KindShiftSwap {
		f[FieldPerson], f[FieldOtherPerson] = "alice", "bob"
	}
	return f
}

func templateSeeds(f *testing.F) {
	f.Add([]byte(leaveTemplateJSON))
	for _, tpl := range []*Template{parallelTemplate(), threeSteps(RejectToPrevious), genTemplate(rand.New(rand.NewPCG(1, 2))), genTemplate(rand.New(rand.NewPCG(3, 4)))} {
		b, _ := json.Marshal(tpl)
		f.Add(b)
	}
	f.Add([]byte(`{"nodes":[{"id":"s","type":"start","next":"e"},{"id":"e","type":"end"}]}`))
	f.Add([]byte(`{"nodes":[{"id":"s","type":"start","next":"p"},{"id":"p","type":"parallel","join":"j","branches":[{"next":"j"},{"next":"j"}]},{"id":"j","type":"join","next":"e"},{"id":"e","type":"end"}]}`))
	f.Add([]byte(`{"kind":"leave","form":[{"name":"person","type":"person"}],"nodes":[{"id":"a","type":"approval","next":"a","approval":{"mode":"vote","pass_ratio":2}}]}`))
	f.Add([]byte(`{"nodes":[{"id":"c","type":"condition","branches":[{"when":{"and":[{"or":[]}]},"next":"c"}]}]}`))
}

// FuzzTemplate decodes arbitrary JSON as a template: validation must not
// panic, must be stable across a JSON round trip, and a template it accepts
// must run to a terminal state when everyone approves.
func FuzzTemplate(f *testing.F) {
	templateSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		var tpl Template
		if err := json.Unmarshal(data, &tpl); err != nil {
			return
		}
		probs := ValidateTemplate(&tpl)
		b, err := json.Marshal(&tpl)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		var back Template
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("re-decode %s: %v", b, err)
		}
		if again := ValidateTemplate(&back); len(again) != len(probs) {
			t.Fatalf("problems changed over a round trip: %v vs %v", probs, again)
		}
		if len(probs) > 0 || len(tpl.Nodes) > 200 {
			return
		}
		h := &harness{t: t, tpl: &tpl, dir: testDir(), now: t0}
		res, err := h.apply(Command{Action: ActSubmit, Actor: "alice", InstanceID: "i1", Form: sampleForm(&tpl)})
		if err != nil {
			t.Fatalf("valid template refused a sample form: %v", err)
		}
		h.accept(res)
		drive(h, 50+20*len(tpl.Nodes))
	})
}

// FuzzValidateForm checks arbitrary JSON forms against a schema with every
// field type: no panic, and a form it accepts is accepted by submit unless
// a person id is unknown (reported as a field error).
func FuzzValidateForm(f *testing.F) {
	tpl := chain(ApprovalSpec{Mode: ModeSingle, Approvers: []ApproverRule{people("mgr")}})
	leave := leaveTemplate(f)
	f.Add([]byte(`{"days": 2.5, "reason": "x", "type": "sick", "start": "2026-02-28", "urgent": true, "backup": "bob", "count": 3, "files": ["a"]}`), false)
	f.Add([]byte(`{"days": "2", "count": 1.5, "start": "2026-02-30", "files": [1]}`), false)
	f.Add([]byte(`{"person": "alice", "from_date": "2026-03-05", "to_date": "2026-03-02", "days": 1, "type": "sick"}`), true)
	f.Add([]byte(`{"days": 1e400}`), false)
	f.Add([]byte(`{"days": null, "x": {"y": []}}`), false)
	f.Fuzz(func(t *testing.T, data []byte, useLeave bool) {
		target := tpl
		if useLeave {
			target = leave
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		if len(data) > 0 && data[0]&1 == 1 {
			dec.UseNumber()
		}
		var form map[string]any
		if err := dec.Decode(&form); err != nil {
			return
		}
		errs := ValidateForm(target, form)
		for _, e := range errs {
			if e.Reason == "" || e.Field == "" && e.Reason != "empty field name" {
				t.Fatalf("unnamed error %+v", e)
			}
		}
		_, err := Apply(target, nil, Command{Action: ActSubmit, Actor: "alice", InstanceID: "i1", At: t0, Form: form}, testDir())
		switch {
		case len(errs) > 0 && err == nil:
			t.Fatalf("submit accepted a form with errors %v", errs)
		case err != nil:
			var e *Error
			if !errors.As(err, &e) || !errors.Is(err, ErrInvalid) || len(e.Fields) == 0 {
				t.Fatalf("submit refused %v without field errors: %v", form, err)
			}
			if len(errs) == 0 {
				for _, fe := range e.Fields {
					if !strings.HasPrefix(fe.Reason, "unknown person") {
						t.Fatalf("submit found %v that ValidateForm missed", fe)
					}
				}
			}
		}
	})
}

// FuzzParseDuration: no panic; accepted durations survive JSON.
func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"2d", "1d12h", "90m", "-1h", "d", "9223372036854775807d", "1.5h", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			return
		}
		b, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		var back Duration
		if err := json.Unmarshal(b, &back); err != nil || back != d {
			t.Fatalf("%q -> %s -> %v (%v)", s, b, time.Duration(back), err)
		}
	})
}

// byteSource turns fuzz input into the random choices of randomCommand, so
// the fuzzer steers command sequences directly. Past the input it mixes a
// counter (splitmix64): a constant source would make rejection sampling in
// rand.IntN spin forever.
type byteSource struct {
	data []byte
	n    uint64
}

func (s *byteSource) Uint64() uint64 {
	var buf [8]byte
	n := copy(buf[:], s.data)
	s.data = s.data[n:]
	s.n += 0x9e3779b97f4a7c15
	z := s.n ^ binary.LittleEndian.Uint64(buf[:])
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// FuzzApplySequence runs fuzzer-chosen command sequences on generated
// templates with the same checks as the property test.
func FuzzApplySequence(f *testing.F) {
	f.Add(uint64(1), []byte("approve approve reject"))
	f.Add(uint64(207), bytes.Repeat([]byte{0x11, 0x80, 0x03, 0xfe}, 40))
	f.Add(uint64(3382), bytes.Repeat([]byte{0x42, 0x07}, 90))
	f.Fuzz(func(t *testing.T, seed uint64, data []byte) {
		tpl := genTemplate(rand.New(rand.NewPCG(seed, 7)))
		h := &harness{t: t, tpl: tpl, dir: testDir(), now: t0}
		src := &byteSource{data: data}
		r := rand.New(src)
		h.do(Command{Action: ActSubmit, Actor: "alice", InstanceID: "i1", Form: genForm(r), Chosen: genChosen(r, tpl)})
		for steps := 0; len(src.data) > 0 && steps < 100; steps++ {
			h.try(randomCommand(r, h))
		}
		drive(h, 300)
	})
}
