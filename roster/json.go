package roster

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// DecodeModel reads a model from JSON, rejecting unknown fields and
// trailing data, then validates it. Syntax errors name the line and
// column; type errors and validation errors name the field path.
func DecodeModel(data []byte) (*Model, error) {
	var m Model
	if err := decodeStrict(data, &m); err != nil {
		return nil, err
	}
	if errs := m.Validate(); len(errs) > 0 {
		return nil, ValidationError(errs)
	}
	return &m, nil
}

func decodeStrict(data []byte, into any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		return jsonError(data, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return ValidationError{{Field: "", Reason: "unexpected data after the JSON value"}}
	}
	return nil
}

// jsonError turns a decoding error into a ValidationError naming where.
func jsonError(data []byte, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		line, col := lineCol(data, syn.Offset)
		return ValidationError{{Field: "", Reason: fmt.Sprintf("invalid JSON at line %d, column %d: %v", line, col, syn)}}
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "(root)"
		}
		return ValidationError{{Field: field, Reason: fmt.Sprintf("must be %s, got JSON %s", typ.Type, typ.Value)}}
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return ValidationError{{Field: "", Reason: "empty or truncated JSON"}}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return ValidationError{{Field: name, Reason: "unknown field"}}
	}
	return ValidationError{{Field: "", Reason: err.Error()}}
}

func lineCol(data []byte, offset int64) (int, int) {
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	before := data[:offset]
	line := bytes.Count(before, []byte("\n")) + 1
	col := int(offset) - bytes.LastIndexByte(before, '\n')
	return line, col
}

// DecodeRoster reads a roster from JSON: either a bare object of employee
// rows or an object with a "roster" field, such as Solve's result.
func DecodeRoster(data []byte) (Roster, error) {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, jsonError(data, err)
	}
	if raw, ok := probe["roster"]; ok {
		var r Roster
		if err := json.Unmarshal(raw, &r); err != nil {
			return nil, ValidationError{{Field: "roster", Reason: "must map employee ids to arrays of shift ids: " + err.Error()}}
		}
		return r, nil
	}
	var r Roster
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, ValidationError{{Field: "", Reason: "must map employee ids to arrays of shift ids: " + err.Error()}}
	}
	return r, nil
}

// ParseGrid reads the benchmark's solution grid: one line per employee in
// the model's order, one tab-separated cell per day, empty for a day off.
func ParseGrid(m *Model, data []byte) (Roster, error) {
	_, H := m.Horizon()
	text := strings.TrimRight(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
	lines := strings.Split(text, "\n")
	if len(lines) != len(m.Employees) {
		return nil, &ParseError{Line: len(lines), Reason: fmt.Sprintf("want %d lines, one per employee, got %d", len(m.Employees), len(lines))}
	}
	r := Roster{}
	for i, line := range lines {
		cells := strings.Split(line, "\t")
		if len(cells) == H+1 && cells[H] == "" {
			cells = cells[:H] // a trailing tab
		}
		if len(cells) != H {
			return nil, &ParseError{Line: i + 1, Reason: fmt.Sprintf("want %d tab-separated cells, got %d", H, len(cells))}
		}
		for d := range cells {
			cells[d] = strings.TrimSpace(cells[d])
		}
		r[m.Employees[i].ID] = cells
	}
	return r, nil
}
