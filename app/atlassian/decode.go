package atlassian

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
)

// How answers are read. The types of this package declare only the
// fields Seatlens uses, so a field Atlassian adds, renames or retypes
// that Seatlens does not read can never fail a scan (a guessed type once
// made every keyed scan fail on a field nothing read). A field that is
// read and has the wrong type, a list that is missing or null, an
// identifier that is missing, and a page longer than any page can be
// are errors naming the field, because each would otherwise turn into a
// smaller report without a word.

// maxPageItems bounds the entries one page may hold. Atlassian's largest
// page is 1,000 (users/search); the bound stops a small body of empty
// objects ("[{},{},…]") from growing into gigabytes of decoded values.
const maxPageItems = 5000

// ErrMalformed is matched (errors.Is) by every answer that could not be
// used: a body that is empty, null or not JSON, a field of the wrong
// type, a list that is missing, an identifier that is missing.
var ErrMalformed = errors.New("atlassian: malformed answer")

// ShapeError says which field of an answer could not be used, and why.
type ShapeError struct {
	Path string // JSON path from the answer's root, e.g. data[3].attributes.hostUrl; "" for the root
	Msg  string // e.g. "is an object, not a string"
}

func (e *ShapeError) Error() string {
	if e.Path == "" {
		return "the answer " + e.Msg
	}
	return e.Path + " " + e.Msg
}

// Is matches ErrMalformed.
func (e *ShapeError) Is(target error) bool { return target == ErrMalformed }

// shapeOf turns a decoding error into a *ShapeError under prefix; other
// errors (a cut connection, a body over its limit) pass through.
func shapeOf(prefix string, err error) error {
	var se *ShapeError
	if errors.As(err, &se) {
		return &ShapeError{Path: joinPath(prefix, se.Path), Msg: se.Msg}
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return &ShapeError{Path: joinPath(prefix, te.Field), Msg: "is " + article(te.Value) + ", not " + wantOf(te.Type)}
	}
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return &ShapeError{Path: prefix, Msg: "is not valid JSON (" + syn.Error() + " at byte " + strconv.FormatInt(syn.Offset, 10) + ")"}
	}
	return err
}

func joinPath(prefix, field string) string {
	switch {
	case prefix == "":
		return field
	case field == "":
		return prefix
	case field[0] == '[':
		return prefix + field
	}
	return prefix + "." + field
}

// article turns encoding/json's value kind ("object", "number 1.5") into
// words.
func article(v string) string {
	switch v {
	case "object", "array":
		return "an " + v
	case "":
		return "a value"
	}
	return "a " + v
}

// wantOf names what a Go type accepts, in JSON's words.
func wantOf(t reflect.Type) string {
	if t == nil {
		return "what was expected"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return t.String()
}

// identified is an entry of a list that must carry an identifier; the
// walkers also use it to tell a page that brings nothing new.
type identified interface {
	// ident is the entry's identifier and the name of its field.
	ident() (value, field string)
}

// list is a JSON list read entry by entry, so an entry of the wrong shape
// is named by its index, and a page holding more than maxPageItems stops
// before it is all in memory. Set reports that the list was there and not
// null: a missing list is no list, never an empty one. N names the list's
// key, which encoding/json does not pass to UnmarshalJSON.
type list[T any, N listKey] struct {
	Items []T
	Set   bool
}

// listKey names where a list sits in an answer.
type listKey interface{ key() string }

type (
	atRoot         struct{}
	inData         struct{}
	inItems        struct{}
	inValues       struct{}
	inApplications struct{}
	inAccounts     struct{}
)

func (atRoot) key() string         { return "" }
func (inData) key() string         { return "data" }
func (inItems) key() string        { return "items" }
func (inValues) key() string       { return "values" }
func (inApplications) key() string { return "applications" }
func (inAccounts) key() string     { return "accounts" }

// UnmarshalJSON reads a list; null leaves Set false.
func (l *list[T, N]) UnmarshalJSON(b []byte) error {
	var n N
	name := n.key()
	b = bytes.TrimSpace(b)
	*l = list[T, N]{}
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	if len(b) == 0 || b[0] != '[' {
		return &ShapeError{Path: name, Msg: "is " + kindOf(b) + ", not a list"}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if _, err := dec.Token(); err != nil {
		return shapeOf(name, err)
	}
	l.Set = true
	for i := 0; dec.More(); i++ {
		at := name + "[" + strconv.Itoa(i) + "]"
		if i == maxPageItems {
			return &ShapeError{Path: name, Msg: "holds more than " + strconv.Itoa(maxPageItems) + " entries, more than any page may"}
		}
		var v T
		if err := dec.Decode(&v); err != nil {
			return shapeOf(at, err)
		}
		if id, ok := any(&v).(identified); ok {
			if value, field := id.ident(); value == "" {
				return &ShapeError{Path: at + "." + field, Msg: "is missing"}
			}
		}
		l.Items = append(l.Items, v)
	}
	return nil
}

func (l *list[T, N]) isList() {}

// need is the error of a list that was absent or null where one must be.
func (l *list[T, N]) need() error {
	if l.Set {
		return nil
	}
	var n N
	return &ShapeError{Path: n.key(), Msg: "is missing or null, where a list was expected"}
}

// kindOf names the JSON value b starts with.
func kindOf(b []byte) string {
	if len(b) == 0 {
		return "empty"
	}
	switch b[0] {
	case '{':
		return "an object"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	case '[':
		return "a list"
	}
	return "a number"
}

// describe is a short, printable rendering of a value for an error.
func describe(s string) string {
	s = Printable(s)
	if len(s) > 120 {
		s = truncateUTF8(s, 120) + "…"
	}
	return strconv.Quote(s)
}

// wrongValue is the error of a field whose value is of the right type
// but cannot be used.
func wrongValue(path, value, why string) error {
	return &ShapeError{Path: path, Msg: fmt.Sprintf("is %s: %s", describe(value), why)}
}
