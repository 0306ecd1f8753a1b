package report

import (
	"context"
	"encoding/json"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// These tests open the HTML report in a real browser, Debian's chromium,
// and print it to A4 with it: what a manager sees and what "print to PDF"
// gives. CI installs chromium and poppler-utils (pdftoppm); elsewhere
// they skip.

// browserTools finds chromium and pdftoppm, or skips the test.
func browserTools(t *testing.T) (chromium, pdftoppm string) {
	t.Helper()
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium is not installed (Debian: apt-get install chromium)")
	}
	pdftoppm, err = exec.LookPath("pdftoppm")
	if err != nil {
		t.Skip("pdftoppm is not installed (Debian: apt-get install poppler-utils)")
	}
	return chromium, pdftoppm
}

// runChromium opens page headless with a fresh profile, every host name
// resolving to nothing, and the network log written: it returns the
// log's path.
func runChromium(t *testing.T, chromium, page string, args ...string) string {
	t.Helper()
	dir := t.TempDir()
	netlog := filepath.Join(dir, "netlog.json")
	abs, err := filepath.Abs(page)
	if err != nil {
		t.Fatal(err)
	}
	args = append([]string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + filepath.Join(dir, "profile"),
		"--host-resolver-rules=MAP * ~NOTFOUND",
		"--log-net-log=" + netlog,
	}, args...)
	args = append(args, "file://"+filepath.ToSlash(abs))
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium, args...)
	// Chromium's helpers may hold its output open after it exits.
	cmd.WaitDelay = 10 * time.Second
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("chromium %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return netlog
}

// pageRequests reads a Chromium network log and returns the addresses the
// page asked for beyond file: and data:. Chromium's own background
// requests (updates, time, accounts: "not an origin") are not the page's
// and are left out; the host resolver rules fail them anyway.
func pageRequests(t *testing.T, netlog string) []string {
	t.Helper()
	b, err := os.ReadFile(netlog)
	if err != nil {
		t.Fatal(err)
	}
	var log struct {
		Constants struct {
			LogEventTypes map[string]int `json:"logEventTypes"`
		} `json:"constants"`
		Events []struct {
			Type   int `json:"type"`
			Params struct {
				URL                 string `json:"url"`
				Initiator           string `json:"initiator"`
				NetworkIsolationKey string `json:"network_isolation_key"`
			} `json:"params"`
		} `json:"events"`
	}
	if err := json.Unmarshal(b, &log); err != nil {
		t.Fatalf("reading the network log %s: %v", netlog, err)
	}
	start, ok := log.Constants.LogEventTypes["URL_REQUEST_START_JOB"]
	if !ok {
		t.Fatalf("the network log %s has no URL_REQUEST_START_JOB event type", netlog)
	}
	var urls []string
	for _, e := range log.Events {
		p := e.Params
		if e.Type != start || p.URL == "" || p.Initiator == "not an origin" && !strings.HasPrefix(p.NetworkIsolationKey, "file:") {
			continue
		}
		if !strings.HasPrefix(p.URL, "file:") && !strings.HasPrefix(p.URL, "data:") {
			urls = append(urls, p.URL)
		}
	}
	return urls
}

// inked tells whether an image has something on it: a few rows of
// pixels that are not white.
func inked(t *testing.T, path string) (width, height int, ok bool) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	bounds := img.Bounds()
	rows := 0
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			if r, g, b, _ := img.At(x, y).RGBA(); r < 0xf000 || g < 0xf000 || b < 0xf000 {
				rows++
				break
			}
		}
	}
	return bounds.Dx(), bounds.Dy(), rows >= bounds.Dy()/100
}

// A4 at 60 dots per inch, as pdftoppm -r 60 rounds 210 × 297 mm.
const a4Width, a4Height = 496, 702

func TestHTMLInChromium(t *testing.T) {
	chromium, pdftoppm := browserTools(t)
	tests := []struct {
		name           string
		page           string
		desktop        bool
		minPages, maxP int
		// screenshots names the README's copies, written with -update.
		screenshots bool
	}{
		{name: "full", page: "html-full.golden.html", desktop: true, minPages: 5, maxP: 8, screenshots: true},
		{name: "partial", page: "html-partial.golden.html", minPages: 2, maxP: 3},
		{name: "empty", page: "html-empty.golden.html", desktop: true, minPages: 1, maxP: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page := filepath.Join("testdata", tt.page)
			out := t.TempDir()
			desktop := filepath.Join(out, "desktop.png")
			if tt.desktop {
				netlog := runChromium(t, chromium, page, "--window-size=1280,2000", "--screenshot="+desktop)
				if urls := pageRequests(t, netlog); len(urls) > 0 {
					t.Errorf("the page asked the network for %q", urls)
				}
				w, h, ok := inked(t, desktop)
				if w != 1280 || h != 2000 {
					t.Errorf("desktop screenshot %d×%d, want 1280×2000", w, h)
				}
				if !ok {
					t.Errorf("desktop screenshot %s is blank", desktop)
				}
			}
			pdf := filepath.Join(out, "a4.pdf")
			netlog := runChromium(t, chromium, page, "--no-pdf-header-footer", "--print-to-pdf="+pdf)
			if urls := pageRequests(t, netlog); len(urls) > 0 {
				t.Errorf("the page asked the network for %q", urls)
			}
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			if b, err := exec.CommandContext(ctx, pdftoppm, "-png", "-r", "60", pdf, filepath.Join(out, "a4")).CombinedOutput(); err != nil {
				t.Fatalf("pdftoppm: %v\n%s", err, b)
			}
			pages, err := filepath.Glob(filepath.Join(out, "a4-*.png"))
			if err != nil {
				t.Fatal(err)
			}
			slices.Sort(pages)
			if len(pages) < tt.minPages || len(pages) > tt.maxP {
				t.Errorf("%d A4 pages, want %d to %d", len(pages), tt.minPages, tt.maxP)
			}
			for _, p := range pages {
				w, h, ok := inked(t, p)
				if w != a4Width || h != a4Height {
					t.Errorf("%s: %d×%d, want A4 at 60 dpi, %d×%d", filepath.Base(p), w, h, a4Width, a4Height)
				}
				if !ok {
					t.Errorf("%s is blank", filepath.Base(p))
				}
			}
			t.Logf("images in %s", out) // kept with -failfast; looked at by hand
			if tt.screenshots && updateGolden() && len(pages) > 0 {
				copyScreenshot(t, desktop, "report-desktop.png")
				copyScreenshot(t, pages[0], "report-a4-1.png")
			}
		})
	}
}

// copyScreenshot keeps an image for the README, refusing one too heavy
// for a repository.
func copyScreenshot(t *testing.T, from, name string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > 400<<10 {
		t.Fatalf("%s is %d KB: keep the README's screenshots under 400 KB", name, len(b)>>10)
	}
	dir := filepath.Join("testdata", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestChromiumNetworkCheck makes sure the network check above can fail:
// a page that loads a stylesheet, an image and a CSS background from the
// web is caught, though every one of them fails to resolve.
func TestChromiumNetworkCheck(t *testing.T) {
	chromium, _ := browserTools(t)
	netlog := runChromium(t, chromium, filepath.Join("testdata", "render-fetches.html"), "--window-size=800,600", "--screenshot="+filepath.Join(t.TempDir(), "shot.png"))
	got := pageRequests(t, netlog)
	for _, want := range []string{"https://fonts.example.com/a.css", "http://cdn.example.com/a.png", "https://img.example.org/b.png"} {
		if !slices.Contains(got, want) {
			t.Errorf("requests %q, want %s among them", got, want)
		}
	}
}
