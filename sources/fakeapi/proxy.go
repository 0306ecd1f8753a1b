package fakeapi

import (
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
)

// Proxy stands in front of a server, a fake or a real one, counts the
// requests that pass and answers injected faults instead of the server.
// With it the conformance suite does the same to every source, real
// Request Tracker and Redmine included.
type Proxy struct {
	target *url.URL
	rp     *httputil.ReverseProxy

	Recorder // Inject, Requests (faults included), ResetCounts
}

// NewProxy makes a proxy to the server at target (scheme and host; a path
// is kept as a prefix).
func NewProxy(target string) (*Proxy, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	p := &Proxy{target: u}
	p.rp = &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(u)
			// The server sees the proxy's host, so the links a fake builds
			// from it lead back through the proxy.
			r.Out.Host = r.In.Host
		},
		ModifyResponse: func(resp *http.Response) error {
			// A real server's absolute links name its own address: point
			// them at the proxy so that paging stays behind it.
			self := "http://" + resp.Request.Host
			for _, h := range []string{"Link", "Location"} {
				if v := resp.Header.Get(h); v != "" {
					resp.Header.Set(h, strings.ReplaceAll(v, u.Scheme+"://"+u.Host, self))
				}
			}
			return nil
		},
	}
	return p, nil
}

func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.Count(r.URL.Path)
	f, fault := p.Take(r.URL.Path)
	if !fault {
		p.rp.ServeHTTP(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	switch {
	case f.Malformed:
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{"items": [{"id": "1", "Subj`))
	default:
		if f.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
		}
		w.WriteHeader(f.Code)
		_, _ = w.Write([]byte(`{"message": "` + http.StatusText(f.Code) + `"}`))
	}
}
