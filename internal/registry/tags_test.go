package registry_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/archwaydev/archway/internal/platform"
	"github.com/archwaydev/archway/internal/registry"
	"github.com/archwaydev/archway/internal/registrytest"
)

// pushTags pushes n tiny tags t00 … t(n−1) of repo at host.
func pushTags(t *testing.T, host, repo string, n int, opts ...remote.Option) []string {
	t.Helper()
	img := registrytest.Image(t, platform.LinuxAMD64)
	var tags []string
	for i := 0; i < n; i++ {
		tag := fmt.Sprintf("t%02d", i)
		registrytest.Push(t, host+"/"+repo+":"+tag, img, opts...)
		tags = append(tags, tag)
	}
	return tags
}

func tagNames(l registry.TagList) []string {
	var out []string
	for _, t := range l.Tags {
		out = append(out, t.Name)
	}
	return out
}

func listTags(t *testing.T, c *registry.Client, ref string) (registry.TagList, error) {
	t.Helper()
	repo, err := c.Repository(ref)
	if err != nil {
		t.Fatal(err)
	}
	return c.ListTags(context.Background(), repo)
}

func tagClient(t *testing.T, opts ...registry.Option) (*registry.Client, *registrytest.Counter) {
	t.Helper()
	cnt := registrytest.NewCounter(nil)
	c, err := registry.New(append([]registry.Option{registry.WithoutCache(), registry.WithTransport(cnt), registry.WithRetry(1, 0)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c, cnt
}

// TestTagsFullPageWithoutLink: go-containerregistry's registry cuts pages
// at n and sends no Link; a full page goes on from its last tag.
func TestTagsFullPageWithoutLink(t *testing.T) {
	reg := registrytest.StartInProcess(t)
	for _, n := range []int{25, 20} {
		repo := fmt.Sprintf("paged/app%d", n)
		want := pushTags(t, reg.Host, repo, n)
		c, cnt := tagClient(t, registry.WithTagPaging(10, 100))
		l, err := listTags(t, c, reg.Ref(repo))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(tagNames(l), want) || l.Source != registry.SourceRegistry {
			t.Errorf("%d tags: listed %v from %s", n, tagNames(l), l.Source)
		}
		if l.Requests != 3 || cnt.Count(registrytest.Other) != 3 {
			t.Errorf("%d tags: %d requests (%d counted), want 3 pages", n, l.Requests, cnt.Count(registrytest.Other))
		}
		// Cached for the TTL: no request the second time.
		l2, err := listTags(t, c, reg.Ref(repo))
		if err != nil || l2.Requests != 0 || cnt.Count(registrytest.Other) != 3 || len(l2.Tags) != n {
			t.Errorf("second listing: %d requests, %d tags, err %v", l2.Requests, len(l2.Tags), err)
		}
	}
}

// TestTagsDistribution: Debian's docker-registry answers every tag in one
// page, unsorted, whatever n says: one request, nothing asked twice.
func TestTagsDistribution(t *testing.T) {
	d := registrytest.StartDistribution(t, registrytest.DistributionOptions{})
	want := pushTags(t, d.Host, "linked/app", 23, d.RemoteOptions()...)
	c, cnt := tagClient(t, registry.WithTagPaging(10, 100), registry.WithInsecure(d.Host))
	l, err := listTags(t, c, d.Ref("linked/app"))
	if err != nil {
		t.Fatal(err)
	}
	got := tagNames(l)
	slices.Sort(got)
	if !slices.Equal(got, want) || l.Requests != 1 || cnt.Count(registrytest.Other) != 1 {
		t.Errorf("listed %v in %d requests", got, l.Requests)
	}
}

// TestTagsRelativeLink: relative Link headers are resolved against the
// registry and followed to the last page.
func TestTagsRelativeLink(t *testing.T) {
	reg := registrytest.StartInProcess(t)
	want := pushTags(t, reg.Host, "linked/app", 25)
	host := linkServer(t, reg.Handler, func(r *http.Request) string {
		last, start := r.URL.Query().Get("last"), 0
		if last != "" {
			i := slices.Index(want, last)
			start = i + 1
		}
		if start+10 >= len(want) {
			return ""
		}
		return fmt.Sprintf(`</v2/linked/app/tags/list?n=10&last=%s>; rel="next"`, want[start+9])
	})
	c, cnt := tagClient(t, registry.WithTagPaging(10, 100))
	l, err := listTags(t, c, host+"/linked/app")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(tagNames(l), want) || l.Requests != 3 || cnt.Count(registrytest.Other) != 3 {
		t.Errorf("listed %v in %d requests", tagNames(l), l.Requests)
	}
}

// linkServer serves reg behind tags/list answers whose Link header is
// link(page).
func linkServer(t *testing.T, reg http.Handler, link func(r *http.Request) string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/tags/list") {
			if l := link(r); l != "" {
				w.Header().Set("Link", l)
			}
		}
		reg.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// TestTagsLinkRules: a Link to another origin is refused, a Link back to
// a page already read ends the listing, and the page cap truncates with a
// note.
func TestTagsLinkRules(t *testing.T) {
	reg := registrytest.StartInProcess(t)
	pushTags(t, reg.Host, "rules/app", 25)
	evil := linkServer(t, reg.Handler, func(*http.Request) string {
		return `<http://127.0.0.2:1/v2/rules/app/tags/list?n=10&last=t09>; rel="next"`
	})
	c, _ := tagClient(t, registry.WithTagPaging(10, 100))
	if _, err := listTags(t, c, evil+"/rules/app"); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Errorf("cross-origin Link followed: err %v", err)
	}
	loop := linkServer(t, reg.Handler, func(r *http.Request) string { return "<" + r.URL.String() + `>; rel="next"` })
	c, cnt := tagClient(t, registry.WithTagPaging(10, 100))
	if l, err := listTags(t, c, loop+"/rules/app"); err != nil || len(l.Tags) != 10 || cnt.Count(registrytest.Other) != 2 {
		t.Errorf("Link loop: %d tags in %d requests, err %v", len(l.Tags), cnt.Count(registrytest.Other), err)
	}
	c, _ = tagClient(t, registry.WithTagPaging(5, 2))
	l, err := listTags(t, c, reg.Ref("rules/app"))
	if err != nil || len(l.Tags) != 10 || len(l.Notes) != 1 || !strings.Contains(l.Notes[0], "truncated at 2 pages") {
		t.Errorf("page cap: %d tags, notes %q, err %v", len(l.Tags), l.Notes, err)
	}
}

// TestTagsHubAPI: the Hub API lists Docker Hub's tags with their
// architectures, 100 a page, attestations dropped, no registry request;
// a 429 rests it and the registry's tags/list is used instead.
func TestTagsHubAPI(t *testing.T) {
	reg := registrytest.StartInProcess(t)
	pushTags(t, reg.Host, "ns/app", 3)
	var hubTags []registrytest.HubTag
	for i := 0; i < 150; i++ {
		ps := []platform.Platform{platform.LinuxAMD64}
		if i >= 100 {
			ps = append(ps, platform.LinuxARM64, platform.Platform{OS: "linux", Architecture: "arm", Variant: "v7"})
		}
		hubTags = append(hubTags, registrytest.HubTag{Name: fmt.Sprintf("1.%d", i), Digest: fmt.Sprintf("sha256:%064d", i), Platforms: ps})
	}
	hub := registrytest.StartHubAPI(t, map[string][]registrytest.HubTag{"ns/app": hubTags}, 0)
	c, cnt := tagClient(t, registry.WithHubAPI(hub.Server.URL, reg.Host))
	l, err := listTags(t, c, reg.Ref("ns/app"))
	if err != nil {
		t.Fatal(err)
	}
	if l.Source != registry.SourceHubAPI || len(l.Tags) != 150 || l.Requests != 2 || hub.Requests() != 2 || cnt.Total() != 2 {
		t.Fatalf("hub listing: source %s, %d tags, %d requests (hub saw %d, %d in all)", l.Source, len(l.Tags), l.Requests, hub.Requests(), cnt.Total())
	}
	i := slices.IndexFunc(l.Tags, func(t registry.Tag) bool { return t.Name == "1.120" })
	if got := platform.NewSet(l.Tags[i].Platforms...); got.Len() != 3 || !got.Contains(platform.LinuxARM64) {
		t.Errorf("1.120 platforms %v", l.Tags[i].Platforms)
	}
	// Rate limited after one request: the listing falls back to the registry.
	hub2 := registrytest.StartHubAPI(t, map[string][]registrytest.HubTag{"ns/app": hubTags}, 1)
	c, _ = tagClient(t, registry.WithHubAPI(hub2.Server.URL, reg.Host))
	l, err = listTags(t, c, reg.Ref("ns/app"))
	if err != nil || l.Source != registry.SourceRegistry || len(l.Tags) != 3 || len(l.Notes) == 0 {
		t.Errorf("after a 429: source %s, %d tags, notes %q, err %v", l.Source, len(l.Tags), l.Notes, err)
	}
	if notes := strings.Join(c.Notes(), "\n"); !strings.Contains(notes, "Hub API rate limit") {
		t.Errorf("no rate-limit note: %q", notes)
	}
}

func TestDigestByHEAD(t *testing.T) {
	reg := registrytest.StartInProcess(t)
	want := registrytest.Push(t, reg.Ref("head/app:1.0"), registrytest.Image(t, platform.LinuxAMD64))
	c, cnt := tagClient(t)
	d, err := c.Digest(context.Background(), reg.Ref("head/app:1.0"))
	if err != nil || d != want || cnt.Count(registrytest.ManifestHEAD) != 1 || cnt.Count(registrytest.ManifestGET) != 0 {
		t.Errorf("Digest = %s, %v; %v", d, err, cnt.Counts())
	}
	if _, err := c.Digest(context.Background(), reg.Ref("head/app:2.0")); err == nil {
		t.Error("a missing tag resolved")
	}
}

// TestTagsHubAPIHostile: a Hub API whose next link leaves its origin, or
// loops on itself, or answers a huge page, is given up for the registry.
func TestTagsHubAPIHostile(t *testing.T) {
	reg := registrytest.StartInProcess(t)
	pushTags(t, reg.Host, "ns/app", 2)
	for name, h := range map[string]http.HandlerFunc{
		"cross-origin next": func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, `{"next":"http://127.0.0.2:1/v2/namespaces/ns/repositories/app/tags?page=2","results":[{"name":"9.9","images":[]}]}`)
		},
		"next loops": func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, `{"next":"%s","results":[{"name":"9.9","images":[]}]}`, "http://"+r.Host+r.URL.String())
		},
		"huge page": func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, `{"results":[{"name":"`+strings.Repeat("x", 9<<20)+`"}]}`)
		},
	} {
		t.Run(name, func(t *testing.T) {
			hub := httptest.NewServer(h)
			t.Cleanup(hub.Close)
			c, _ := tagClient(t, registry.WithHubAPI(hub.URL, reg.Host), registry.WithTagPaging(10, 5))
			l, err := listTags(t, c, reg.Ref("ns/app"))
			if err != nil || l.Source != registry.SourceRegistry || len(l.Tags) != 2 || len(l.Notes) != 1 || !strings.Contains(l.Notes[0], "the Hub API failed") {
				t.Errorf("source %s, tags %v, notes %q, err %v", l.Source, tagNames(l), l.Notes, err)
			}
		})
	}
}

// TestTagsShared: concurrent listings of one repository send one.
func TestTagsShared(t *testing.T) {
	reg := registrytest.StartInProcess(t)
	pushTags(t, reg.Host, "shared/app", 3)
	c, cnt := tagClient(t)
	var wg sync.WaitGroup
	requests := make([]int, 8)
	for i := range requests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l, err := listTags(t, c, reg.Ref("shared/app"))
			if err != nil || len(l.Tags) != 3 {
				t.Errorf("listing %d: %d tags, %v", i, len(l.Tags), err)
			}
			requests[i] = l.Requests
		}()
	}
	wg.Wait()
	sum := 0
	for _, r := range requests {
		sum += r
	}
	if got := cnt.Count(registrytest.Other); got != 1 || sum != 1 {
		t.Errorf("%d tag-list requests sent, %d reported; want 1 and 1", got, sum)
	}
}
