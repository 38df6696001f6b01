package verify_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/archwaydev/archway/internal/verify"
)

func TestLintDockerfile(t *testing.T) {
	df := `FROM --platform=$BUILDPLATFORM golang:1.24 AS build
RUN curl -fsSLO https://example.invalid/protoc-linux-x86_64.zip
RUN GOARCH=$TARGETARCH go build -o /app .

FROM debian:12 AS tools
ARG TARGETARCH
RUN curl -fsSL https://example.invalid/kubectl/linux/${TARGETARCH}/kubectl -o /kubectl
RUN case "$(dpkg --print-architecture)" in amd64) A=x86_64;; arm64) A=aarch64;; esac && curl -O https://example.invalid/tool-$A.tgz

FROM debian:12 AS mapped
ENV ARCH=${TARGETARCH}
RUN curl -fsSLO https://example.invalid/tool-linux-$ARCH.tgz && test "$ARCH" = amd64 && echo x86
RUN if [ "$(cat /etc/arch)" = x86_64 ]; then A=x86_64; else A=aarch64; fi

FROM --platform=linux/amd64 debian:12
RUN curl -fsSL https://example.invalid/helm-v3.15.0-linux-amd64.tar.gz | tar -xz
RUN wget https://example.invalid/node-v20-linux-x64.tar.xz
ADD https://example.invalid/jq-linux-x86_64 /usr/local/bin/jq
COPY node_modules ./node_modules
COPY --from=build /app /app
COPY lib/libsqlite.so.3 /usr/lib/
`
	got, err := verify.LintDockerfile("Dockerfile", []byte(df))
	if err != nil {
		t.Fatal(err)
	}
	type brief struct {
		Line             int
		Rule, Suggestion string
	}
	var b []brief
	for _, f := range got {
		b = append(b, brief{f.Line, f.Rule, f.Suggestion})
	}
	context := "build it in the image (RUN npm ci, or make) in a stage FROM the target platform, and COPY --from that stage"
	want := []brief{
		{15, verify.RuleConstPlatform, "FROM --platform=$TARGETPLATFORM debian:12   (or drop --platform)"},
		{16, verify.RuleLiteralArch, "ARG TARGETARCH\nRUN curl -fsSL https://example.invalid/helm-v3.15.0-linux-${TARGETARCH}.tar.gz | tar -xz"},
		{17, verify.RuleLiteralArch, "ARG TARGETARCH\nRUN ARCH=$(case ${TARGETARCH} in amd64) echo x64;; arm64) echo arm64;; esac) && wget https://example.invalid/node-v20-linux-${ARCH}.tar.xz\n(check the project's name for its arm64 file)"},
		{18, verify.RuleLiteralArch, "RUN curl -fsSL https://example.invalid/jq-linux-$(uname -m) -o /usr/local/bin/jq"},
		{19, verify.RuleContextBinaries, context},
		{21, verify.RuleContextBinaries, context},
	}
	if diff := cmp.Diff(want, b); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	if _, err := verify.LintDockerfile("bad", []byte("RUN echo no FROM\n")); err == nil {
		t.Error("a Dockerfile without FROM should be an error")
	}
}

// TestLintDockerfileFileDevice: a device given as the Dockerfile is
// refused at once, not read without end.
func TestLintDockerfileFileDevice(t *testing.T) {
	if _, err := verify.LintDockerfileFile("/dev/zero"); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("err = %v, want /dev/zero refused", err)
	}
}
