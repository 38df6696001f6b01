package ecs

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
)

// value is a parsed JSON value that remembers where it starts.
type value struct {
	kind   kind
	offset int    // byte offset of the value's first character
	str    string // for kindString, and the literal of a kindNumber
	keys   []string
	fields []*value // object members, in order, parallel to keys
	items  []*value // array elements
}

type kind int

const (
	kindOther kind = iota // bool, null
	kindString
	kindNumber
	kindObject
	kindArray
)

// get returns the member key of an object, or nil.
func (v *value) get(key string) *value {
	if v == nil || v.kind != kindObject {
		return nil
	}
	for i, k := range v.keys {
		if k == key {
			return v.fields[i]
		}
	}
	return nil
}

// decoder builds values from a json.Decoder's tokens. The decoder reports
// where each token ends; a token starts after the previous one's end and
// the whitespace and separators the decoder skips.
type decoder struct {
	data []byte
	dec  *json.Decoder
}

// parseJSON reads exactly one JSON value from data.
func parseJSON(data []byte) (*value, error) {
	d := &decoder{data: data, dec: json.NewDecoder(bytes.NewReader(data))}
	d.dec.UseNumber()
	v, err := d.value()
	if err != nil {
		return nil, err
	}
	end := d.start()
	if _, err := d.dec.Token(); !errors.Is(err, io.EOF) {
		return nil, &syntaxError{offset: end, msg: "unexpected data after the top-level value"}
	}
	return v, nil
}

// start returns the offset where the next token begins.
func (d *decoder) start() int {
	i := int(d.dec.InputOffset())
	for i < len(d.data) {
		switch d.data[i] {
		case ' ', '\t', '\r', '\n', ':', ',':
			i++
			continue
		}
		break
	}
	return i
}

func (d *decoder) token() (json.Token, error) {
	off := d.start()
	tok, err := d.dec.Token()
	if err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, &syntaxError{offset: int(se.Offset), msg: se.Error()}
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, &syntaxError{offset: len(d.data), msg: "unexpected end of JSON input"}
		}
		return nil, &syntaxError{offset: off, msg: err.Error()}
	}
	return tok, nil
}

func (d *decoder) value() (*value, error) {
	off := d.start()
	tok, err := d.token()
	if err != nil {
		return nil, err
	}
	v := &value{offset: off}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			v.kind = kindObject
			for d.dec.More() {
				k, err := d.token()
				if err != nil {
					return nil, err
				}
				key, ok := k.(string)
				if !ok {
					return nil, &syntaxError{offset: off, msg: "object key is not a string"}
				}
				f, err := d.value()
				if err != nil {
					return nil, err
				}
				v.keys, v.fields = append(v.keys, key), append(v.fields, f)
			}
		case '[':
			v.kind = kindArray
			for d.dec.More() {
				item, err := d.value()
				if err != nil {
					return nil, err
				}
				v.items = append(v.items, item)
			}
		default:
			return nil, &syntaxError{offset: off, msg: fmt.Sprintf("unexpected %q", t)}
		}
		if _, err := d.token(); err != nil { // the closing delimiter
			return nil, err
		}
	case string:
		v.kind, v.str = kindString, t
	case json.Number:
		v.kind, v.str = kindNumber, t.String()
	default:
		v.kind = kindOther
	}
	return v, nil
}

// syntaxError is malformed JSON at a byte offset.
type syntaxError struct {
	offset int
	msg    string
}

func (e *syntaxError) Error() string { return e.msg }

// lines maps byte offsets to 1-based lines and columns.
type lines []int // offsets where each line starts

func newLines(data []byte) lines {
	ls := lines{0}
	for i, b := range data {
		if b == '\n' {
			ls = append(ls, i+1)
		}
	}
	return ls
}

// at returns the line and column (in bytes) of offset.
func (ls lines) at(offset int) (line, col int) {
	i, found := slices.BinarySearch(ls, offset)
	if !found {
		i-- // offset is inside the line that starts before it
	}
	return i + 1, offset - ls[i] + 1
}
