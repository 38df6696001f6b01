package platform

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		want    Platform
		wantErr bool
	}{
		{in: "linux/arm64", want: Platform{OS: "linux", Architecture: "arm64"}},
		{in: "arm64", want: Platform{OS: "linux", Architecture: "arm64"}},
		{in: "aarch64", want: Platform{OS: "linux", Architecture: "arm64"}},
		{in: "linux/arm64/v8", want: Platform{OS: "linux", Architecture: "arm64"}},
		{in: "arm64/v8", want: Platform{OS: "linux", Architecture: "arm64"}},
		{in: "x86_64", want: Platform{OS: "linux", Architecture: "amd64"}},
		{in: "linux/x86-64", want: Platform{OS: "linux", Architecture: "amd64"}},
		{in: "LINUX/AMD64", want: Platform{OS: "linux", Architecture: "amd64"}},
		{in: "armhf", want: Platform{OS: "linux", Architecture: "arm", Variant: "v7"}},
		{in: "armel", want: Platform{OS: "linux", Architecture: "arm", Variant: "v6"}},
		{in: "linux/arm", want: Platform{OS: "linux", Architecture: "arm", Variant: "v7"}},
		{in: "linux/arm/v6", want: Platform{OS: "linux", Architecture: "arm", Variant: "v6"}},
		{in: "windows/amd64", want: Platform{OS: "windows", Architecture: "amd64"}},
		{in: " linux/s390x ", want: Platform{OS: "linux", Architecture: "s390x"}},
		{in: "", wantErr: true},
		{in: "linux/", wantErr: true},
		{in: "linux/sparc", wantErr: true},
		{in: "a/b/c/d", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := Parse(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Parse(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestParseList(t *testing.T) {
	got, err := ParseList("linux/arm64, amd64,")
	if err != nil {
		t.Fatal(err)
	}
	want := []Platform{LinuxARM64, LinuxAMD64}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ParseList mismatch (-want +got):\n%s", diff)
	}
	if _, err := ParseList(" , "); err == nil {
		t.Error("ParseList of an empty list: want error")
	}
}

func TestSatisfies(t *testing.T) {
	tests := []struct {
		image, node string
		want        bool
	}{
		{"linux/arm64", "linux/arm64", true},
		{"linux/arm64/v8", "linux/arm64", true},
		{"linux/arm64", "linux/arm64/v8", true},
		{"linux/amd64", "linux/arm64", false},
		{"linux/arm64", "linux/amd64", false},
		{"windows/amd64", "linux/amd64", false},
		{"linux/arm/v7", "linux/arm/v7", true},
		{"linux/arm/v6", "linux/arm/v7", false}, // not assumed: see Satisfies
		{"linux/arm/v7", "linux/arm/v6", false},
		{"linux/arm/v7", "linux/arm", true},
		// A variant in the target is the node's level.
		{"linux/arm64", "linux/arm64/v9", true},
		{"linux/arm64/v8.2", "linux/arm64/v9", true},
		{"linux/arm64/v9", "linux/arm64/v8.2", false},
		{"linux/arm64/v9", "linux/arm64", true},
		{"linux/amd64", "linux/amd64/v2", true},
		{"linux/amd64", "linux/amd64/v3", true},
		{"linux/amd64/v2", "linux/amd64/v3", true},
		{"linux/amd64/v3", "linux/amd64/v2", false},
		{"linux/amd64/weird", "linux/amd64/v2", false},
	}
	for _, tt := range tests {
		t.Run(tt.image+" on "+tt.node, func(t *testing.T) {
			if got := MustParse(tt.image).Satisfies(MustParse(tt.node)); got != tt.want {
				t.Errorf("%s.Satisfies(%s) = %v, want %v", tt.image, tt.node, got, tt.want)
			}
		})
	}
}

func TestSatisfiesIgnoresOSVersion(t *testing.T) {
	img := Platform{OS: "windows", Architecture: "amd64", OSVersion: "10.0.20348.2700"}
	if !img.Satisfies(Platform{OS: "windows", Architecture: "amd64"}) {
		t.Error("windows image with os.version should satisfy a windows/amd64 node")
	}
}

func TestSet(t *testing.T) {
	s := NewSet(
		MustParse("linux/amd64"),
		Platform{OS: "linux", Architecture: "aarch64"},
		Platform{OS: "linux", Architecture: "arm64", Variant: "v8"},
		Platform{OS: "unknown", Architecture: "unknown"},
		MustParse("windows/amd64"),
	)
	if got, want := s.String(), "linux/amd64,linux/arm64,windows/amd64"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if s.Len() != 3 {
		t.Errorf("Len() = %d, want 3", s.Len())
	}
	if diff := cmp.Diff([]string{"amd64", "arm64"}, s.Architectures()); diff != "" {
		t.Errorf("Architectures mismatch (-want +got):\n%s", diff)
	}
	if !s.Supports(LinuxARM64) || s.Supports(MustParse("linux/s390x")) {
		t.Error("Supports gave the wrong answer")
	}
	var empty Set
	if empty.Supports(LinuxAMD64) || empty.Len() != 0 {
		t.Error("the zero Set must be empty")
	}
}
