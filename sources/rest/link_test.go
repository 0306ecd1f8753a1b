package rest

import (
	"net/http"
	"testing"
)

func TestNextLink(t *testing.T) {
	for _, tt := range []struct{ name, link, want string }{
		{"none", "", ""},
		{"GitHub, middle page",
			`<https://api.github.com/repositories/1300192/issues?page=2>; rel="prev", <https://api.github.com/repositories/1300192/issues?page=4>; rel="next", <https://api.github.com/repositories/1300192/issues?page=515>; rel="last", <https://api.github.com/repositories/1300192/issues?page=1>; rel="first"`,
			"https://api.github.com/repositories/1300192/issues?page=4"},
		{"last page", `<https://api.github.com/repositories/1300192/issues?page=514>; rel="prev", <https://api.github.com/repositories/1300192/issues?page=1>; rel="first"`, ""},
		{"several rels", `<https://x.example/a?page=2>; rel="next last"`, "https://x.example/a?page=2"},
		{"unquoted", `<https://x.example/a?page=2>; rel=next`, "https://x.example/a?page=2"},
		{"malformed", `https://x.example/a?page=2; rel="next"`, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.link != "" {
				h.Set("Link", tt.link)
			}
			if got := NextLink(h); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
