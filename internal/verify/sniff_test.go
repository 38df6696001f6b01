package verify

import (
	"bytes"
	"debug/elf"
	"testing"
)

func TestParseShebang(t *testing.T) {
	tests := []struct{ in, interp, arg string }{
		{"#!/bin/sh\necho", "/bin/sh", ""},
		{"#! /usr/bin/env -S python3 -u\r\n", "/usr/bin/env", "-S python3 -u"},
		{"#!/bin/bash\t-e\n", "/bin/bash", "-e"},
	}
	for _, tt := range tests {
		b := parseShebang([]byte(tt.in))
		if b.Interp != tt.interp || b.Arg != tt.arg {
			t.Errorf("%q: got %q %q, want %q %q", tt.in, b.Interp, b.Arg, tt.interp, tt.arg)
		}
	}
	for arg, want := range map[string]string{"-S python3 -u": "python3", "node": "node", "-i FOO=1 ruby": "ruby", "-S": ""} {
		if got := envCommand(arg); got != want {
			t.Errorf("envCommand(%q) = %q, want %q", arg, got, want)
		}
	}
}

func TestELFArch(t *testing.T) {
	tests := []struct {
		class int
		big   bool
		m     elf.Machine
		want  string
	}{
		{64, false, elf.EM_X86_64, "amd64"},
		{64, false, elf.EM_AARCH64, "arm64"},
		{32, false, elf.EM_AARCH64, "arm64-ilp32"},
		{32, false, elf.EM_ARM, "arm"},
		{64, false, elf.EM_PPC64, "ppc64le"},
		{64, true, elf.EM_S390, "s390x"},
		{64, false, elf.EM_RISCV, "riscv64"},
		{32, false, elf.EM_386, "386"},
		{64, false, elf.EM_SPARCV9, "elf-machine-43"},
	}
	for _, tt := range tests {
		if got := elfArch(tt.class, tt.big, tt.m); got != tt.want {
			t.Errorf("elfArch(%d, %v, %v) = %q, want %q", tt.class, tt.big, tt.m, got, tt.want)
		}
	}
}

// FuzzSniff feeds the sniffer hostile heads: it must not panic, nor read
// past maxHeadBytes.
func FuzzSniff(f *testing.F) {
	f.Add([]byte("\x7fELF\x02\x01\x01"))
	f.Add([]byte("#!/bin/sh\n"))
	f.Add([]byte("MZ" + string(make([]byte, 0x3a)) + "\x40\x00\x00\x00PE\x00\x00\x64\x86"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r := bytes.NewReader(b)
		_, _ = sniff(r, int64(len(b)), make([]byte, headBytes))
		if read := int64(len(b)) - int64(r.Len()); read > maxHeadBytes {
			t.Fatalf("read %d bytes", read)
		}
	})
}

func TestShellCommand(t *testing.T) {
	for in, want := range map[string]string{
		"exec app --flag":     "app",
		"FOO=1 exec /app run": "/app",
		"cd /x && app":        "",
		"$APP serve":          "",
		"node server.js":      "node",
	} {
		if got := shellCommand([]string{"/bin/sh", "-c", in}); got != want {
			t.Errorf("%q: got %q, want %q", in, got, want)
		}
	}
	if got := shellCommand([]string{"/app", "-c", "x"}); got != "" {
		t.Errorf("not a shell: got %q", got)
	}
}
