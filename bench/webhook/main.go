// Command webhook benchmarks archway's admission webhook on loopback.
//
// It serves an in-process registry (go-containerregistry's pkg/registry)
// seeded with the sandbox catalogue behind a counting proxy, starts the
// webhook in-process over TLS with webhook.NewServer, the constructor
// `archway webhook` calls, and then:
//
//  1. warm cache: sends AdmissionReviews for a pod with three images at a
//     fixed rate (open loop) and reports latency percentiles;
//  2. cold burst: sends CONCURRENCY admissions of one image nobody has
//     looked up, all at once, and counts the manifest GETs the registry
//     saw (singleflight: the answer must be 1);
//  3. reinvocation: sends placed pods again with an amd64-only sidecar
//     injected, as the API server does after a later webhook changed the
//     pod (reinvocationPolicy IfNeeded): the registry must see nothing.
//
// Usage: go run ./bench/webhook [-rate 1000] [-duration 10s] [-burst 100]
package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	jsonpatch "github.com/evanphx/json-patch/v5"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	"github.com/archwaydev/archway/internal/certs"
	"github.com/archwaydev/archway/internal/placement"
	"github.com/archwaydev/archway/internal/registrytest"
	"github.com/archwaydev/archway/internal/sandbox"
	"github.com/archwaydev/archway/internal/webhook"
)

func main() {
	rate := flag.Int("rate", 1000, "warm-cache requests per second")
	duration := flag.Duration("duration", 10*time.Second, "warm-cache run length")
	burst := flag.Int("burst", 100, "concurrent cold admissions of one new image")
	workers := flag.Int("workers", 64, "most requests in flight in the warm run")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to `FILE`")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	ctx, cancel := context.WithTimeout(context.Background(), *duration+2*time.Minute)
	defer cancel()
	if err := run(ctx, *rate, *duration, *burst, *workers); err != nil {
		pprof.StopCPUProfile()
		log.SetFlags(0)
		log.Fatal("bench/webhook: ", err)
	}
}

// countingProxy serves the registry and counts requests by kind.
type countingProxy struct {
	next   http.Handler
	mu     sync.Mutex
	counts map[registrytest.Kind]int
}

func (p *countingProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.counts[registrytest.Classify(r.Method, r.URL.Path)]++
	p.mu.Unlock()
	p.next.ServeHTTP(w, r)
}

func (p *countingProxy) reset() map[registrytest.Kind]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.counts
	p.counts = map[registrytest.Kind]int{}
	return c
}

func run(ctx context.Context, rate int, duration time.Duration, burst, workers int) error {
	// Registry behind the counting proxy.
	proxy := &countingProxy{next: ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0))), counts: map[registrytest.Kind]int{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	regSrv := &http.Server{Handler: proxy, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = regSrv.Serve(ln) }()
	defer func() { _ = regSrv.Close() }()
	host := ln.Addr().String()
	if _, err := sandbox.Seed(ctx, host); err != nil {
		return err
	}
	// The cold image: a copy of a single-platform catalogue image under a new name.
	srcRef, err := name.ParseReference(host + "/demo/legacy-billing:3.2")
	if err != nil {
		return err
	}
	src, err := remote.Image(srcRef, remote.WithContext(ctx))
	if err != nil {
		return err
	}
	coldRef := host + "/bench/cold:1"
	dst, err := name.ParseReference(coldRef)
	if err != nil {
		return err
	}
	if err := remote.Write(dst, src, remote.WithContext(ctx)); err != nil {
		return err
	}

	// The webhook, built by the constructor `archway webhook` calls.
	webhook.TuneGC()
	dir, err := os.MkdirTemp("", "bench-webhook")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	serving, err := certs.NewServing("bench-ca", []string{"127.0.0.1"}, time.Now(), time.Hour)
	if err != nil {
		return err
	}
	certFile, keyFile, err := serving.WriteFiles(dir)
	if err != nil {
		return err
	}
	taint, _ := placement.ParseTaint("arm=true:NoSchedule")
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	srv, err := webhook.NewServer(sctx, webhook.Config{
		Addr: "127.0.0.1:0", CertFile: certFile, KeyFile: keyFile,
		Placement: placement.Options{ArmTaint: taint},
		Keychain:  authn.NewMultiKeychain(), // anonymous, as the in-process registry wants
	})
	if err != nil {
		return err
	}
	url := "https://" + srv.Addr() + webhook.MutatePath
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(serving.CAPEM)
	httpClient := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig:     &tls.Config{RootCAs: pool},
		MaxIdleConnsPerHost: workers + burst,
		MaxConnsPerHost:     workers + burst,
	}}

	warmImages := []string{host + "/demo/api:2.1", host + "/demo/legacy-billing:3.2", host + "/demo/sidecar:1.0"}
	bodies := make([][]byte, 64)
	for i := range bodies {
		if bodies[i], err = review(i, warmImages...); err != nil {
			return err
		}
	}
	// Fill the cache, then the connection pool: requests sent one after
	// another would reuse a single connection, leaving the measured run to
	// pay TLS handshakes whenever its concurrency rises, which a real API
	// server's kept-alive connections do not.
	if _, err := send(ctx, httpClient, url, bodies[0]); err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}
	warm, warmCtx := errgroup.WithContext(ctx)
	for i := 0; i < workers; i++ {
		warm.Go(func() error {
			if _, err := send(warmCtx, httpClient, url, bodies[i%len(bodies)]); err != nil {
				return fmt.Errorf("warm-up: %w", err)
			}
			return nil
		})
	}
	if err := warm.Wait(); err != nil {
		return err
	}
	proxy.reset()

	// 1. Warm cache, open loop at rate.
	total := int(duration.Seconds() * float64(rate))
	lat := make([]time.Duration, total)
	var failures atomic.Int64
	sem := make(chan struct{}, workers)
	var wg sync.WaitGroup
	interval := time.Second / time.Duration(rate)
	start := time.Now()
	dropped := 0
	for i := 0; i < total; i++ {
		if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
			time.Sleep(d)
		}
		select {
		case sem <- struct{}{}:
		default:
			dropped++ // every worker busy: the server is not keeping up
			lat[i] = -1
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			d, err := send(ctx, httpClient, url, bodies[i%len(bodies)])
			if err != nil {
				failures.Add(1)
				d = -1
			}
			lat[i] = d
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	warmRegistry := proxy.reset()

	// 2. Cold burst: burst admissions of one new image at once.
	coldBody := make([][]byte, burst)
	for i := range coldBody {
		if coldBody[i], err = review(10000+i, coldRef); err != nil {
			return err
		}
	}
	coldLat := make([]time.Duration, burst)
	var coldFail atomic.Int64
	gate := make(chan struct{})
	for i := range burst {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			d, err := send(ctx, httpClient, url, coldBody[i])
			if err != nil {
				coldFail.Add(1)
			}
			coldLat[i] = d
		}()
	}
	time.Sleep(100 * time.Millisecond)
	close(gate)
	wg.Wait()
	cold := proxy.reset()

	// 3. Reinvocation: pods placed for a multi-arch image get an amd64-only
	// sidecar injected by a later webhook and are sent again; both images
	// are cached, so the registry must see nothing.
	reinvoke := make([][]byte, burst)
	for i := range reinvoke {
		if reinvoke[i], err = reinvocation(ctx, httpClient, url, 20000+i, warmImages[0], warmImages[1]); err != nil {
			return fmt.Errorf("reinvocation setup: %w", err)
		}
	}
	proxy.reset()
	reLat := make([]time.Duration, burst)
	var reFail atomic.Int64
	for i := range burst {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := send(ctx, httpClient, url, reinvoke[i])
			if err != nil {
				reFail.Add(1)
			}
			reLat[i] = d
		}()
	}
	wg.Wait()
	re := proxy.reset()
	stop()
	if err := srv.Wait(); err != nil {
		return err
	}

	ok := slices.DeleteFunc(slices.Clone(lat), func(d time.Duration) bool { return d < 0 })
	fmt.Printf("## archway webhook benchmark (loopback TLS, in-process webhook, GOMAXPROCS=%d, load average %s)\n\n", goMaxProcs(), loadAvg())
	fmt.Println("| run | requests | achieved rate | failed | p50 | p90 | p99 | max | registry requests |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|")
	fmt.Printf("| warm cache, 3 images/pod, target %d req/s | %d | %.0f req/s | %d (+%d not sent: all %d workers busy) | %s | %s | %s | %s | %d |\n",
		rate, len(ok), float64(len(ok))/elapsed.Seconds(), failures.Load(), dropped, workers,
		pct(ok, 50), pct(ok, 90), pct(ok, 99), pct(ok, 100), sum(warmRegistry))
	fmt.Printf("| cold burst, %d concurrent, 1 new image | %d | - | %d | %s | %s | %s | %s | %d manifest GET, %d blob GET, %d total |\n",
		burst, burst, coldFail.Load(), pct(coldLat, 50), pct(coldLat, 90), pct(coldLat, 99), pct(coldLat, 100),
		cold[registrytest.ManifestGET], cold[registrytest.BlobGET], sum(cold))
	fmt.Printf("| reinvocation, %d concurrent, amd64-only sidecar injected | %d | - | %d | %s | %s | %s | %s | %d |\n",
		burst, burst, reFail.Load(), pct(reLat, 50), pct(reLat, 90), pct(reLat, 99), pct(reLat, 100), sum(re))
	fmt.Println()
	if n := sum(re); n != 0 {
		return fmt.Errorf("reinvocation: %d registry requests, want 0", n)
	}
	if cold[registrytest.ManifestGET] != 1 {
		return fmt.Errorf("cold burst: %d manifest GETs at the registry, want 1", cold[registrytest.ManifestGET])
	}
	if failures.Load() > 0 || coldFail.Load() > 0 || reFail.Load() > 0 {
		return fmt.Errorf("%d warm, %d cold and %d reinvocation requests failed", failures.Load(), coldFail.Load(), reFail.Load())
	}
	return nil
}

// reinvocation admits pod i with image, applies the answer's patch, adds a
// sidecar container with image sidecar to the admitted pod (as an injecting
// webhook would) and returns the review the API server would send again.
func reinvocation(ctx context.Context, c *http.Client, url string, i int, image, sidecar string) ([]byte, error) {
	body, err := review(i, image)
	if err != nil {
		return nil, err
	}
	_, patchJSON, err := sendPatch(ctx, c, url, body)
	if err != nil {
		return nil, err
	}
	var first admissionv1.AdmissionReview
	if err := json.Unmarshal(body, &first); err != nil {
		return nil, err
	}
	patch, err := jsonpatch.DecodePatch(patchJSON)
	if err != nil {
		return nil, err
	}
	raw, err := patch.Apply(first.Request.Object.Raw)
	if err != nil {
		return nil, err
	}
	var pod corev1.Pod
	if err := json.Unmarshal(raw, &pod); err != nil {
		return nil, err
	}
	pod.Spec.Containers = append(pod.Spec.Containers, corev1.Container{Name: "injected", Image: sidecar})
	if first.Request.Object.Raw, err = json.Marshal(pod); err != nil {
		return nil, err
	}
	return json.Marshal(first)
}

func review(i int, images ...string) ([]byte, error) {
	pod := corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("pod-%d", i), Namespace: "bench", Labels: map[string]string{"app": "bench"}},
	}
	for j, img := range images {
		pod.Spec.Containers = append(pod.Spec.Containers, corev1.Container{Name: fmt.Sprintf("c%d", j), Image: img})
	}
	raw, err := json.Marshal(pod)
	if err != nil {
		return nil, err
	}
	return json.Marshal(admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{
			UID:       types.UID(fmt.Sprintf("uid-%d", i)),
			Kind:      metav1.GroupVersionKind{Version: "v1", Kind: "Pod"},
			Resource:  metav1.GroupVersionResource{Version: "v1", Resource: "pods"},
			Namespace: "bench",
			Operation: admissionv1.Create,
			Object:    runtime.RawExtension{Raw: raw},
		},
	})
}

// send posts one review and checks the answer carries a patch.
func send(ctx context.Context, c *http.Client, url string, body []byte) (time.Duration, error) {
	d, _, err := sendPatch(ctx, c, url, body)
	return d, err
}

// sendPatch posts one review and returns the JSON patch of the answer,
// which must carry one.
func sendPatch(ctx context.Context, c *http.Client, url string, body []byte) (time.Duration, []byte, error) {
	start := time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	out, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	d := time.Since(start)
	if err != nil {
		return d, nil, err
	}
	var review admissionv1.AdmissionReview
	if resp.StatusCode != http.StatusOK || json.Unmarshal(out, &review) != nil || review.Response == nil ||
		review.Response.PatchType == nil || *review.Response.PatchType != admissionv1.PatchTypeJSONPatch {
		return d, nil, fmt.Errorf("status %d: %.300s", resp.StatusCode, out)
	}
	return d, review.Response.Patch, nil
}

func pct(ds []time.Duration, p int) string {
	if len(ds) == 0 {
		return "-"
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	if i > 0 {
		i--
	}
	return fmt.Sprintf("%.2f ms", float64(s[i].Microseconds())/1000)
}

func sum(m map[registrytest.Kind]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
