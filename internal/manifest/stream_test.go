package manifest

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRestoreLines(t *testing.T) {
	tests := []struct {
		name, orig, out, want string
	}{
		{
			name: "blank lines and comment columns come back",
			orig: "a: 1   # one\n\nb: 2\n",
			out:  "a: 1 # one\nb: 2\nc: 3\n",
			want: "a: 1   # one\n\nb: 2\nc: 3\n",
		},
		{
			name: "dash spacing is indentation, not restored",
			orig: "l:\n-   a: 1\n    b: 2\n",
			out:  "l:\n- a: 1\n  b: 2\n  c: 3\n",
			want: "l:\n- a: 1\n  b: 2\n  c: 3\n",
		},
		{
			name: "trailing blank lines kept",
			orig: "a: 1\n\n\n",
			out:  "a: 1\nb: 2\n",
			want: "a: 1\nb: 2\n\n\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(restoreLines([]byte(tt.orig), []byte(tt.out)))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDetectYAMLStyle(t *testing.T) {
	tests := []struct {
		in   string
		want yamlStyle
	}{
		{"a:\n  b:\n  - x\n", yamlStyle{indent: 2, compactSeq: true}},
		{"a:\n  b:\n    - x\n", yamlStyle{indent: 2, compactSeq: false}},
		{"a:\n    b:\n        - x\n", yamlStyle{indent: 4, compactSeq: false}},
		{"a:\n    b:\n      - x\n", yamlStyle{indent: 4, compactSeq: true}},
		{"a:\r\n  b: 1\r\n", yamlStyle{indent: 2, compactSeq: true, crlf: true}},
		{"l:\n- name: x\n  env:\n    - a\n", yamlStyle{indent: 2, compactSeq: true}},
	}
	for _, tt := range tests {
		if got := detectYAMLStyle([]byte(tt.in)); got != tt.want {
			t.Errorf("detectYAMLStyle(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}
