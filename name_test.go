package latchkey

import (
	"strings"
	"testing"
)

func TestValidateName(t *testing.T) {
	ok := []string{"Billing sync", "Zürich – prod", "東京 key", "نام\u200cکلید", "family 👨\u200d👩\u200d👧", " padded "}
	for _, s := range ok {
		if err := ValidateName("name", s, 100); err != nil {
			t.Errorf("ValidateName(%q) = %v, want nil", s, err)
		}
	}
	bad := map[string]string{
		"empty":                   "",
		"spaces only":             "   ",
		"NUL":                     "a\x00b",
		"CR LF":                   "Subject\r\nBcc: x",
		"LF":                      "a\nb",
		"tab":                     "a\tb",
		"escape":                  "a\x1b[31mred",
		"DEL":                     "a\x7f",
		"C1 control":              "a\u0085b",
		"right-to-left override":  "invoice\u202egpj.exe",
		"left-to-right embedding": "a\u202ab",
		"first strong isolate":    "a\u2068b",
		"pop directional isolate": "a\u2069b",
		"LRM":                     "a\u200eb",
		"RLM":                     "a\u200fb",
		"Arabic letter mark":      "a\u061cb",
		"zero width space":        "ad\u200bmin",
		"soft hyphen":             "ad\u00admin",
		"BOM":                     "\ufeffadmin",
		"tag characters":          "a\U000E0041b",
		"line separator":          "a\u2028b",
		"invalid UTF-8":           "a\xffb",
		"too long":                strings.Repeat("é", 101),
	}
	for name, s := range bad {
		t.Run(name, func(t *testing.T) {
			err := ValidateName("name", s, 100)
			if ErrorCode(err) != EINVALID {
				t.Fatalf("got %v, want invalid_request", err)
			}
			if f := err.(*Error).Details["field"]; f != "name" {
				t.Errorf("got field %v, want name", f)
			}
		})
	}
	if err := ValidateName("name", strings.Repeat("é", 100), 100); err != nil {
		t.Errorf("100 runes: got %v, want nil", err)
	}
}

func TestValidateText(t *testing.T) {
	for _, s := range []string{"", "line one\nline two\n\tindented", "Ünïcödé"} {
		if err := ValidateText("description", s, 1000); err != nil {
			t.Errorf("ValidateText(%q) = %v, want nil", s, err)
		}
	}
	for _, s := range []string{"a\rb", "a\x00", "a\u202eb", "a\x1b", strings.Repeat("x", 1001), "\xc3"} {
		err := ValidateText("description", s, 1000)
		if ErrorCode(err) != EINVALID || err.(*Error).Details["field"] != "description" {
			t.Errorf("ValidateText(%q) = %v, want invalid_request on description", s, err)
		}
	}
}

func TestKeyAndWorkspaceNamesRefuseSpoofing(t *testing.T) {
	if err := ValidateKeyName("ACTION REQUIRED\r\nre-login"); ErrorCode(err) != EINVALID {
		t.Errorf("key name with CRLF: got %v, want invalid_request", err)
	}
	if err := ValidateWorkspaceName("Acme\u202e"); ErrorCode(err) != EINVALID {
		t.Errorf("workspace name with RLO: got %v, want invalid_request", err)
	}
	if err := ValidateDescription("a\u2066b"); ErrorCode(err) != EINVALID {
		t.Errorf("description with LRI: got %v, want invalid_request", err)
	}
}
