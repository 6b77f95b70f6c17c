package console

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"sync"
)

// assets holds the stylesheet, console.js and htmx. htmx.min.js is htmx
// 2.0.11, copied unmodified from the npm package htmx.org (dist/htmx.min.js);
// there is no build step.
//
//go:embed assets
var assets embed.FS

// assetVersion is a short hash of every asset, appended to asset URLs so
// they can be cached for a long time and still change with each release.
var assetVersion = sync.OnceValue(func() string {
	h := sha256.New()
	_ = fs.WalkDir(assets, "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := assets.ReadFile(p)
		h.Write([]byte(p))
		h.Write(b)
		return err
	})
	return hex.EncodeToString(h.Sum(nil))[:12]
})

// assetURL is the versioned URL of an embedded asset.
func assetURL(name string) string { return "/assets/" + name + "?v=" + assetVersion() }

// serveAsset serves one embedded asset.
func serveAsset(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	b, err := assets.ReadFile("assets/" + name)
	if err != nil || name == "" || name[0] == '.' {
		http.NotFound(w, r)
		return
	}
	ct := mime.TypeByExtension(path.Ext(name))
	if ct == "" {
		ct = "application/octet-stream"
	}
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("X-Content-Type-Options", "nosniff")
	if r.URL.Query().Get("v") == assetVersion() {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	_, _ = w.Write(b)
}
