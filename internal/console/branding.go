package console

import (
	"html/template"
	"net/http"
	"regexp"
	"strings"

	"github.com/latchkey/latchkey"
)

// Brand is the installation's look: the product's name, logo and accent
// colour on every page, and the product's origins that may frame the
// console.
type Brand struct {
	// Name replaces "latchkey" in titles, the header and the login page.
	Name string
	// LogoURL is an https URL (or a path on this site) of the logo.
	LogoURL string
	// Accent is a colour as #rrggbb.
	Accent string
	// FrameAncestors are the origins allowed to frame the console
	// (https://app.example.com); none means the console is never framed.
	FrameAncestors []string
}

var accentPattern = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// Validate checks the brand's values, so a bad flag stops the start with a
// clear message instead of making a page that does not work.
func (b Brand) Validate() error {
	if err := latchkey.ValidateName("brand name", b.Name, 60); b.Name != "" && err != nil {
		return err
	}
	if b.Accent != "" && !accentPattern.MatchString(b.Accent) {
		return latchkey.Errorf(latchkey.EINVALID, "the accent colour must be #rrggbb, such as #0f766e")
	}
	if b.LogoURL != "" && !strings.HasPrefix(b.LogoURL, "/") && (latchkey.Origin(b.LogoURL) == "" || !strings.HasPrefix(b.LogoURL, "https://")) {
		return latchkey.Errorf(latchkey.EINVALID, "the logo must be an https URL or a path on this site")
	}
	if strings.HasPrefix(b.LogoURL, "//") {
		return latchkey.Errorf(latchkey.EINVALID, "the logo must be an https URL or a path on this site")
	}
	for _, o := range b.FrameAncestors {
		if latchkey.Origin(o) != strings.ToLower(strings.TrimRight(o, "/")) || !strings.HasPrefix(o, "https://") {
			return latchkey.Errorf(latchkey.EINVALID, "frame ancestor %q must be an https origin such as https://app.example.com", o)
		}
	}
	return nil
}

func (b Brand) name() string {
	if b.Name == "" {
		return "latchkey"
	}
	return b.Name
}

// framed reports whether the product may frame the console: then the
// session cookie must travel in a third-party context (SameSite=None;
// Secure; Partitioned).
func (b Brand) framed() bool { return len(b.FrameAncestors) > 0 }

// csp is the console's Content-Security-Policy: only this origin's own
// scripts and styles, no inline script or style; the logo's origin as
// an image source; framing by the product's origins only.
func (b Brand) csp() string {
	img := "'self' data:"
	if o := latchkey.Origin(b.LogoURL); o != "" {
		img += " " + o
	}
	frame := "'none'"
	if b.framed() {
		frame = strings.Join(b.FrameAncestors, " ")
	}
	return "default-src 'self'; script-src 'self'; style-src 'self'; img-src " + img + "; frame-ancestors " + frame +
		"; base-uri 'none'; form-action 'self'"
}

// brandView is what templates see of the brand.
type brandView struct {
	Name, Logo string
	Accent     bool
}

func (c *Console) brandFuncs() template.FuncMap {
	v := brandView{Name: c.brand.name(), Logo: c.brand.LogoURL, Accent: c.brand.Accent != ""}
	return template.FuncMap{"brand": func() brandView { return v }}
}

// brandCSS serves the accent colour as a stylesheet: the CSP allows no
// inline style.
func (c *Console) brandCSS(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if c.brand.Accent == "" {
		return
	}
	a := strings.ToLower(c.brand.Accent)
	_, _ = w.Write([]byte(":root { --accent: " + a + "; --accent-strong: " + a + "; }\n"))
}
