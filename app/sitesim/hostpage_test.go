package sitesim

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	seatlens "github.com/seatlens/seatlens"
	"github.com/seatlens/seatlens/app/connect/qsh"
	"github.com/seatlens/seatlens/descriptor"
)

const evilAdmin = "5b10a2844c20165700ede2ff"

// hostSite is a site with a second site admin whose display name is
// markup, and the real descriptor's app installed into it.
type hostSite struct {
	*testSite
	inst Installation
}

func newHostSite(t *testing.T, contextPath string) hostSite {
	t.Helper()
	sc := DefaultScenario()
	sc.Users = append(sc.Users, User{AccountID: evilAdmin, AccountType: AccountAtlassian, Active: true,
		DisplayName: `Eve <script>alert(1)</script>`, Email: "eve@seatlens-sim.example"})
	sc.Members[GroupSiteAdmins] = append(sc.Members[GroupSiteAdmins], evilAdmin)
	ts := newTestSite(t, sc, Options{ContextPath: contextPath})

	tpl, err := descriptor.Parse(seatlens.DescriptorTemplate)
	if err != nil {
		t.Fatal(err)
	}
	var base string
	mux := http.NewServeMux()
	mux.HandleFunc("GET /app/atlassian-connect.json", func(w http.ResponseWriter, r *http.Request) {
		b, err := tpl.Render(base)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(b)
	})
	mux.HandleFunc("POST /app/lifecycle/{event}", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	app := httptest.NewServer(mux)
	t.Cleanup(app.Close)
	base = app.URL + "/app" // a base URL with a path: qsh is relative to it
	inst, err := ts.srv.Install(context.Background(), ts.ts.URL+contextPath, base, "")
	if err != nil {
		t.Fatal(err)
	}
	return hostSite{testSite: ts, inst: inst}
}

var iframeSrc = regexp.MustCompile(`<iframe[^>]*\ssrc="([^"]*)"`)

// framed fetches a host page and returns its body and the iframe URL.
func (hs hostSite) framed(t *testing.T, pageURL string) (string, *url.URL) {
	t.Helper()
	resp, body := get(t, pageURL)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %d %s", pageURL, resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Fatalf("host page content type %q", ct)
	}
	m := iframeSrc.FindStringSubmatch(string(body))
	if m == nil {
		t.Fatalf("no iframe in\n%s", body)
	}
	u, err := url.Parse(html.UnescapeString(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	return string(body), u
}

type hostClaims struct {
	jwt.RegisteredClaims
	QSH string `json:"qsh"`
}

func (hs hostSite) verify(t *testing.T, tok string) hostClaims {
	t.Helper()
	var c hostClaims
	_, err := jwt.ParseWithClaims(tok, &c, func(*jwt.Token) (any, error) { return []byte(hs.inst.SharedSecret), nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithIssuer(hs.inst.ClientKey), jwt.WithExpirationRequired(), jwt.WithIssuedAt())
	if err != nil {
		t.Fatalf("token does not verify with the shared secret: %v", err)
	}
	if c.ExpiresAt.Sub(c.IssuedAt.Time) != 180e9 {
		t.Errorf("token lives %v, want 180s", c.ExpiresAt.Sub(c.IssuedAt.Time))
	}
	return c
}

// checkIframe: the iframe URL is the module at the app with every standard
// parameter and a JWT whose qsh covers the URL relative to the app base.
func (hs hostSite) checkIframe(t *testing.T, src *url.URL, modulePath, cp, sub string) {
	t.Helper()
	base, _ := url.Parse(hs.inst.AppBaseURL)
	if src.Scheme+"://"+src.Host != base.Scheme+"://"+base.Host || src.EscapedPath() != base.EscapedPath()+modulePath {
		t.Fatalf("iframe %s is not %s%s", src, hs.inst.AppBaseURL, modulePath)
	}
	q := src.Query()
	want := map[string]string{"xdm_e": hs.inst.SiteBaseURL, "xdm_c": "channel-" + hs.inst.AppKey + "__seatlens-admin",
		"cp": cp, "lic": "none", "cv": "1001.0.0"}
	for k, v := range want {
		if got, ok := q[k]; !ok || len(got) != 1 || got[0] != v {
			t.Errorf("iframe param %s = %q, want %q", k, got, v)
		}
	}
	c := hs.verify(t, q.Get("jwt"))
	var rest []string
	for _, p := range strings.Split(src.RawQuery, "&") {
		if !strings.HasPrefix(p, "jwt=") {
			rest = append(rest, p)
		}
	}
	if wantQSH := qsh.Of(http.MethodGet, src.EscapedPath(), strings.Join(rest, "&"), base.EscapedPath()); c.QSH != wantQSH {
		t.Errorf("qsh %s, want %s", c.QSH, wantQSH)
	}
	if c.Subject != sub {
		t.Errorf("sub %q, want %q", c.Subject, sub)
	}
}

func TestHostPageFramesSignedAdminPage(t *testing.T) {
	for _, cp := range []string{"", "/wiki"} {
		t.Run("cp="+cp, func(t *testing.T) {
			hs := newHostSite(t, cp)
			page, err := hs.srv.HostPageURL(hs.ts.URL, hs.inst.AppKey)
			if err != nil {
				t.Fatal(err)
			}
			admin := hs.srv.Site().Admin().AccountID
			if want := hs.ts.URL + "/plugins/servlet/ac/" + hs.inst.AppKey + "/seatlens-admin?user=" + admin; page != want {
				t.Fatalf("HostPageURL = %s, want %s", page, want)
			}
			_, src := hs.framed(t, page)
			hs.checkIframe(t, src, "/admin", cp, admin)
		})
	}
}

func TestHostPageUserSwitch(t *testing.T) {
	hs := newHostSite(t, "")
	page, err := hs.srv.HostPageURL(hs.ts.URL, hs.inst.AppKey)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := hs.framed(t, page)
	for _, id := range []string{hs.srv.Site().Admin().AccountID, evilAdmin} {
		if !strings.Contains(body, `<option value="`+id+`"`) {
			t.Errorf("the switcher lacks admin %s", id)
		}
	}
	second := strings.Replace(page, "user="+hs.srv.Site().Admin().AccountID, "user="+evilAdmin, 1)
	_, src := hs.framed(t, second)
	hs.checkIframe(t, src, "/admin", "", evilAdmin)
}

func TestHostPageEscapesUserValues(t *testing.T) {
	hs := newHostSite(t, "")
	page, _ := hs.srv.HostPageURL(hs.ts.URL, hs.inst.AppKey)
	body, _ := hs.framed(t, page)
	if strings.Contains(body, "<script>alert") || !strings.Contains(body, "Eve &lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Fatalf("display name not escaped:\n%s", body)
	}
	// Unknown app, module or user: 404 with a plain message, nothing echoed raw.
	for _, p := range []string{
		"/plugins/servlet/ac/" + url.PathEscape("<b>x</b>") + "/seatlens-admin",
		"/plugins/servlet/ac/" + hs.inst.AppKey + "/nope",
		"/plugins/servlet/ac/" + hs.inst.AppKey + "/seatlens-admin?user=" + url.QueryEscape("<img src=x>"),
	} {
		resp, b := get(t, hs.ts.URL+p)
		if resp.StatusCode != http.StatusNotFound || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
			t.Errorf("%s: %d %q", p, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if len(b) == 0 {
			t.Errorf("%s: empty message", p)
		}
	}
}

func TestHostPageConfigurePageKeepsModuleQuery(t *testing.T) {
	hs := newHostSite(t, "")
	_, src := hs.framed(t, hs.ts.URL+"/plugins/servlet/ac/"+hs.inst.AppKey+"/seatlens-configure?user="+evilAdmin)
	if src.Query().Get("view") != "settings" || src.Query().Get("xdm_c") != "channel-"+hs.inst.AppKey+"__seatlens-configure" {
		t.Fatalf("configure page iframe %s", src)
	}
	c := hs.verify(t, src.Query().Get("jwt"))
	base, _ := url.Parse(hs.inst.AppBaseURL)
	raw := strings.Split(src.RawQuery, "&jwt=")[0]
	if c.QSH != qsh.Of(http.MethodGet, src.EscapedPath(), raw, base.EscapedPath()) {
		t.Fatalf("qsh does not cover the module's own query")
	}
}

func TestHostContextToken(t *testing.T) {
	hs := newHostSite(t, "")
	resp, body := get(t, hs.ts.URL+"/host/context-token?app="+url.QueryEscape(hs.inst.AppKey)+"&user="+evilAdmin)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	var out struct{ Token string }
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatal(err)
	}
	c := hs.verify(t, out.Token)
	if c.QSH != "context-qsh" || c.Subject != evilAdmin {
		t.Fatalf("context token qsh %q sub %q", c.QSH, c.Subject)
	}
	for q, want := range map[string]int{
		"app=" + hs.inst.AppKey:                       http.StatusBadRequest,
		"app=io.unknown&user=" + evilAdmin:            http.StatusNotFound,
		"app=" + hs.inst.AppKey + "&user=nobody-here": http.StatusNotFound,
	} {
		resp, body := get(t, hs.ts.URL+"/host/context-token?"+q)
		if resp.StatusCode != want || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			t.Errorf("%s: %d %s, want %d JSON", q, resp.StatusCode, body, want)
		}
	}
}

func TestHostScriptsServed(t *testing.T) {
	hs := newHostSite(t, "")
	for _, p := range []string{"/atlassian-connect/all.js", "/host/host.js"} {
		resp, body := get(t, hs.ts.URL+p)
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") {
			t.Fatalf("%s: %d %q", p, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if p == "/atlassian-connect/all.js" {
			for _, api := range []string{"getToken", "resize", "sizeToParent", "navigator", "flag", "getCurrentUser", "initializeTheming", "xdm_e", "e.origin"} {
				if !strings.Contains(string(body), api) {
					t.Errorf("all.js lacks %s", api)
				}
			}
		}
	}
}

func TestHostPageGoneAfterUninstall(t *testing.T) {
	hs := newHostSite(t, "")
	page, _ := hs.srv.HostPageURL(hs.ts.URL, hs.inst.AppKey)
	if err := hs.srv.Uninstall(context.Background(), hs.inst); err != nil {
		t.Fatal(err)
	}
	if resp, _ := get(t, page); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("host page after uninstall: %d", resp.StatusCode)
	}
	if _, err := hs.srv.HostPageURL(hs.ts.URL, hs.inst.AppKey); err == nil {
		t.Fatal("HostPageURL of an uninstalled app")
	}
}
