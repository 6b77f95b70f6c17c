package sqlstore

import (
	"encoding/json"
	"reflect"
	"testing"
)

// The fast paths of scanKey must decode exactly as encoding/json does, or
// hand the input to it.
func TestUnmarshalStringsAgreesWithJSON(t *testing.T) {
	for _, in := range []string{
		`[]`, `[ ]`, `["items:read"]`, `["a","b"]`, `[ "a" , "b" ]`, "[\"a\",\n\"b\"]", `["10.0.0.0/8","::1/128"]`,
		`["a,b"]`, `[""]`, `["\u0041"]`, `["a\"b"]`, `["é"]`, `null`, `["a",]`, `["a" "b"]`, `[1]`, `["a"`, `[`, ``, `{}`,
	} {
		var want []string
		wantErr := json.Unmarshal([]byte(in), &want)
		var got []string
		err := unmarshalStrings([]byte(in), &got)
		if (err != nil) != (wantErr != nil) || !reflect.DeepEqual(got, want) {
			t.Errorf("unmarshalStrings(%q) = %#v, %v; encoding/json: %#v, %v", in, got, err, want, wantErr)
		}
	}
}

func TestEmptyJSON(t *testing.T) {
	for in, want := range map[string]bool{`[]`: true, `{}`: true, `[ ]`: true, `{ }`: true, ` {} `: true,
		`[1]`: false, `{"a":1}`: false, `null`: false, ``: false, `[}`: false, `{]`: false, `"[]"`: false} {
		if got := emptyJSON([]byte(in)); got != want {
			t.Errorf("emptyJSON(%q) = %v, want %v", in, got, want)
		}
	}
}
