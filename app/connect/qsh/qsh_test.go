package qsh

import (
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"
)

// officialVectors are the 39 interoperability cases of Atlassian's
// JwtSigningInteroperabilityTest (atlassian-jwt-js
// test/resources/jwt-signed-urls.json), as listed in
// ../shared/atlassian/connect-protocol.md §3.6: host https://example.com,
// method GET, empty base path.
var officialVectors = []struct {
	n         int
	name      string
	url       string
	canonical string
	qsh       string
}{
	{1, "Simple", "/test?param=value", "GET&/test&param=value", "be16910858a41fd19ea5c1b4e9decca9a784d1024cb00b2158defe2f29dc86dd"},
	{2, "Spaces", "/test?param=some+spaces+in+this+parameter", "GET&/test&param=some%20spaces%20in%20this%20parameter", "ef4097d05395eaf1a133956f140116a9c411afad768d4f06daac9e305764265d"},
	{3, "Asterisk", "/test?query=connect*", "GET&/test&query=connect%2A", "0d28bc10d1972d9cab59e123ce17976eb32aad6957a13cfb8b97ced6d3fc8a29"},
	{4, "Unicode", "/test?director=%E5%AE%AE%E5%B4%8E+%E9%A7%BF", "GET&/test&director=%E5%AE%AE%E5%B4%8E%20%E9%A7%BF", "44d6354ffe8f963972a7fc59e98b2c3dfe4b493295c5b89edd974a339e61ac89"},
	{5, "Comma-delimited", "/test?ids=10%2C2%2C20%2C1", "GET&/test&ids=10%2C2%2C20%2C1", "2e617b65f966650789990e5cac8ff295ee5b453834d04798f466ff6035bd8829"},
	{6, "Multi-value Comma-delimited", "/test?tuples=1%2C2%2C3&tuples=6%2C5%2C4&tuples=7%2C9%2C8", "GET&/test&tuples=1%2C2%2C3,6%2C5%2C4,7%2C9%2C8", "f9f62bb61191dff1b219e9ade8ac38fcfa46272ea76d9545410db6559fd8e7bd"},
	{7, "Plus", "/test?title=1+%2B+1+equals+3", "GET&/test&title=1%20%2B%201%20equals%203", "ce0a866ce0c34cbde70deb63f6915192f58500d2b49b12e1ffc8cdf91edabc91"},
	{8, "JSON Object", "/test?json=%7B%22key%22%3A%22value%22%7D", "GET&/test&json=%7B%22key%22%3A%22value%22%7D", "1d74c5a1f0a6c72a3ce285570cbfd8fe736910123e6ada203d4c7ba9a6128a6f"},
	{9, "JSON Array", "/test?json=%5B%22val1%22%2C%22val2%22%5D", "GET&/test&json=%5B%22val1%22%2C%22val2%22%5D", "5a69d35f16534290a4ed2f9e53a45e6872cf0c3a1163295c42947d42931a1f73"},
	{10, "Single Quotes", "/test?quote=%27quoted%27", "GET&/test&quote=%27quoted%27", "207a30376c594d5cde7b6e873b943f84798371d3293b7eac27e2c2a2a5d111d5"},
	{11, "Brackets", "/test?param=%28%29", "GET&/test&param=%28%29", "46b9787a8983560f446f82d6143122d99e153affd5688fa45343074a091573eb"},
	{12, "Tilde", "/test?eta=in+%7E3+days", "GET&/test&eta=in%20~3%20days", "5c5f97cdfe3abd8feb48f6f0240a71ef5c111289a5bf77ddf645250b3951ec63"},
	{13, "RFC-1738 Unsafe", "/test?rfc=+%3C%3E%22%23%25%7B%7D%7C%5C%5E%7E%5B%5D%60", "GET&/test&rfc=%20%3C%3E%22%23%25%7B%7D%7C%5C%5E~%5B%5D%60", "36ba39c5379d752bbef1349ba58df98ecaa456b78c7c2e3245e2f33eac712a49"},
	{14, "RFC-1738 Reserved", "/test?rfc=%3B%2F%3F%3A%40%3D%26", "GET&/test&rfc=%3B%2F%3F%3A%40%3D%26", "639330bc92d79373b198da697873b2f03f1a3a0c5af78cf8eea517f14960b150"},
	{15, "RFC-1738 Special", "/test?rfc=%24-_.%2B%21*%27%28%29%2C", "GET&/test&rfc=%24-_.%2B%21%2A%27%28%29%2C", "0e36229cc459ff8ccb4845c11433cfbbe25bfa45e8c1ea14d2a124231cb0a2e9"},
	{16, "RFC-3986 Unreserved", "/test?rfc=-._%7E", "GET&/test&rfc=-._~", "0ddf7e631c3b11e7975814ee84fec26804dc72b0a0e997871d8415cee6b78b31"},
	{17, "RFC-3986 gen-delims", "/test?rfc=%3A%2F%3F%23%5B%5D%40", "GET&/test&rfc=%3A%2F%3F%23%5B%5D%40", "96041ee45ad4b8ea29bce42f3e2835490591f55e84bddbbab82151d4a1ac1a11"},
	{18, "RFC-3986 sub-delims", "/test?rfc=%21%24%26%27%28%29*%2B%2C%3B%3D", "GET&/test&rfc=%21%24%26%27%28%29%2A%2B%2C%3B%3D", "b8d049874f1fe5abe274d20bdecebee8daada453191a827738eebcd759efd4e1"},
	{19, "Empty", "/test?notmuch=", "GET&/test&notmuch=", "20fecded9951516a3447b1b556d0eb350de29770505253a30dc739502e05ddc7"},
	{20, "Encoded", "/test?referrer=http%3A%2F%2Ffrom.net%2Fp%3Fx%3DA%2B%252B%2BB%26y%3D%2524-_.%252B%2521*%2527%2528%2529%252C", "GET&/test&referrer=http%3A%2F%2Ffrom.net%2Fp%3Fx%3DA%2B%252B%2BB%26y%3D%2524-_.%252B%2521%2A%2527%2528%2529%252C", "7ca81b8e4e83c2375eea7b8b50bd3786ba8b43261193a3bd3ccdfca06120ee33"},
	{21, "Multi-value", "/test?ids=-1&ids=1&ids=10&ids=2&ids=20", "GET&/test&ids=-1,1,10,2,20", "a646c48741faaeb649f9ca7888ae029ead432e3806f56c4a57b80b3e2ac628a9"},
	{22, "Multi-value II", "/test?ids=.1&ids=.2&ids=%3A1&ids=%3A2", "GET&/test&ids=.1,.2,%3A1,%3A2", "f0524d42e0f8661862e1f1e9add8757972a0043bb7136d641735d21874c5a056"},
	{23, "Multi-value Unicode", "/test?chars=%E5%AE%AE&chars=%E5%B4%8E&chars=%E9%A7%BF", "GET&/test&chars=%E5%AE%AE,%E5%B4%8E,%E9%A7%BF", "72a7f7ce9f93157f296b86338315423d6f3b6aba5081f04bbdb6bb18218b65ee"},
	{24, "Multi-value Empty", "/test?c=&c=+&c=%2520&c=%2B", "GET&/test&c=,%20,%2520,%2B", "cbbcac9a6a02f3ad96c5ab5bf876dd9f79b2c61ceec5660a1c9d73a3b102ec2c"},
	{25, "Key RFC-1738 Unsafe", "/test?%231=value", "GET&/test&%231=value", "eccb4a232d50ca41ac40398675b6487a711d9e972917d8a61cbc120f9fbda597"},
	{26, "Key RFC-1738 Reserved", "/test?%3A1=value", "GET&/test&%3A1=value", "6d823181a68a4952c75e4b51ad0b8d59e879859cdf977e7254545201bca8465d"},
	{27, "Key RFC-1738 Special", "/test?%241=value", "GET&/test&%241=value", "a9f61f1c8250ebfb9234654e71dec233c93c16a54fe30a649dfd65badf3c0171"},
	{28, "Multiple Parameters Simple", "/test?a=x&b=y", "GET&/test&a=x&b=y", "abd5de604b9d3cda44d3c7a9dd698a21259655394658a6642f87b9d825869460"},
	{29, "Multiple Multi-value Parameters", "/test?a=x1&a=x10&b=y1&b=y10", "GET&/test&a=x1,x10&b=y1,y10", "310ba3ff7e1e9a8cacd33dd6172501304bf325096d81ccad449465427e58a9c4"},
	{30, "Multiple Parameters Spaces", "/test?a=another+one&a=one+string&b=and+yet+more&b=more+here", "GET&/test&a=another%20one,one%20string&b=and%20yet%20more,more%20here", "700721e65385781fc1fa248220c75400f1e8a197c838ef1779f00b69bfa4a6ff"},
	{31, "Multiple Parameters Comma-delimited", "/test?a=1%2C2%2C3&a=4%2C5%2C6&b=a%2Cb%2Cc&b=d%2Ce%2Cf", "GET&/test&a=1%2C2%2C3,4%2C5%2C6&b=a%2Cb%2Cc,d%2Ce%2Cf", "06b76eb63acccce2356cdfc66f4abd1e3a061c0305c9fc76b616ae71fe3b6ab5"},
	{32, "Parameter Order", "/test?a10=1&a1=2&b1=3&b10=4", "GET&/test&a1=2&a10=1&b1=3&b10=4", "159cc3d3003f067c3ae263d19ded42dedd28221cce4d4757b13fc7722a24408f"},
	{33, "Upper- and Lower-case Parameters", "/test?A=A&a=a&b=b&B=B", "GET&/test&A=A&B=B&a=a&b=b", "539adc2b0aef2ec8659825893b8b92e6a53c9483e2150b8185b08490d8b6de60"},
	{34, "Search Request View", "/search-view?link=http%3A%2F%2Fion%3A2990%2Fjira%2Fsecure%2FIssueNavigator.jspa%3Freset%3Dtrue%26jqlQuery%3Dissuetype%2B%253D%2BBug&startIssue=0&totalIssues=2&endIssue=2&issues=issues%3DTEST-2%2CTEST-1&tz=Australia%2FSydney&loc=en-US&user_id=admin&user_key=admin&xdm_e=http%3A%2F%2Fion.local%3A2990&xdm_c=channel-acmodule-1564427223927602208&cp=jira&lic=none", "GET&/search-view&cp=jira&endIssue=2&issues=issues%3DTEST-2%2CTEST-1&lic=none&link=http%3A%2F%2Fion%3A2990%2Fjira%2Fsecure%2FIssueNavigator.jspa%3Freset%3Dtrue%26jqlQuery%3Dissuetype%2B%253D%2BBug&loc=en-US&startIssue=0&totalIssues=2&tz=Australia%2FSydney&user_id=admin&user_key=admin&xdm_c=channel-acmodule-1564427223927602208&xdm_e=http%3A%2F%2Fion.local%3A2990", "0cb74b80dd7f7793849867298ca2d889e4d8b66111b6896227bdbb490dc44ae1"},
	{35, "BasePath only", "/test?", "GET&/test&", "bad328fac990349a8c88393c1755bc4f984a9c387202229b8ed52e04ff7e9fec"},
	{36, "BasePath with Delimiter", "/endsWithDelimiter/?a=b", "GET&/endsWithDelimiter&a=b", "8f77c6a0e6bf25041121ee44480d3c97ae9cca4b7a007ea6e1d648d9a26e5d1d"},
	{37, "BasePath with Delimiter Only", "/endsWithDelimiter/?", "GET&/endsWithDelimiter&", "4c799e91fc8e1be9b1f034f2191ae80cb2080b54a85e9a2464ad2f2115f8d987"},
	{38, "BasePath RFC3986 Unreserved", "/path-._~?a=b", "GET&/path-._~&a=b", "5d1574ea0fd8974fa4326d87b3efec74004bf13d35395599de425327178c173b"},
	{39, "BasePath RFC3986 Subdelimiters", "/path!$&'()*+,;=?a=b", "GET&/path!$%26'()*+,;=&a=b", "9ef803f9cb8dea4f7f875caff8d31e95962c6e8bd44d64a848d6ebb055b2144b"}}

func TestOfficialVectors(t *testing.T) {
	if len(officialVectors) != 39 {
		t.Fatalf("want 39 official vectors, have %d", len(officialVectors))
	}
	for _, v := range officialVectors {
		t.Run(v.name, func(t *testing.T) {
			path, query := SplitRequestURI(v.url)
			got := Canonical("GET", path, query, "")
			if got != v.canonical {
				t.Fatalf("vector %d canonical:\n got %q\nwant %q", v.n, got, v.canonical)
			}
			if h := Hash(got); h != v.qsh {
				t.Fatalf("vector %d qsh: got %s want %s", v.n, h, v.qsh)
			}
			// The same request as a server sees it, with the token appended
			// the way Atlassian appends it, must hash the same.
			req := httptest.NewRequest("GET", "https://example.com"+v.url+"&jwt=x.y.z", nil)
			path, query = SplitRequestURI(req.RequestURI)
			if h := Of(req.Method, path, query, ""); h != v.qsh {
				t.Fatalf("vector %d via request: got %s want %s (RequestURI %q)", v.n, h, v.qsh, req.RequestURI)
			}
		})
	}
}

// TestExtraVectors covers atlassian-jwt-js test/jwt_test.ts and the
// researcher's sanity checks (connect-protocol.md §3.6, end).
func TestExtraVectors(t *testing.T) {
	cases := []struct {
		name, method, path, query, context string
		canonical, qsh                     string
	}{
		{"repeated values sorted, keys sorted", "GET", "/path/to/service",
			"zee_last=param&repeated=parameter 1&first=param&repeated=parameter 2&repeated=Parameter 2", "",
			"GET&/path/to/service&first=param&repeated=Parameter%202,parameter%201,parameter%202&zee_last=param", ""},
		{"no query", "GET", "/path", "", "", "GET&/path&", "799be84a7fa35570087163c0cd9af3abff7ac05c2c12ba0bb1d7eebc984b3ac2"},
		{"empty path", "GET", "", "", "", "GET&/&", "c88caad15a1c1a900b8ac08aa9686f4e8184539bea1deda36e2f649430df3239"},
		{"root path", "GET", "/", "", "", "GET&/&", "c88caad15a1c1a900b8ac08aa9686f4e8184539bea1deda36e2f649430df3239"},
		{"post no params", "POST", "/hello-world", "", "", "POST&/hello-world&", "6f95f3738e1b037a3bebbe0ad237d80fdbc1d5ae452e98ce03a9c004c178ebb4"},
		{"iframe params", "GET", "/hello-world",
			"lic=none&tz=Australia%2FSydney&cp=%2Fjira&user_key=&loc=en-US&user_id=&jwt=abc&xdm_e=http%3A%2F%2Fstorm%3A2990&xdm_c=channel-servlet-hello-world&xdm_p=1", "",
			"GET&/hello-world&cp=%2Fjira&lic=none&loc=en-US&tz=Australia%2FSydney&user_id=&user_key=&xdm_c=channel-servlet-hello-world&xdm_e=http%3A%2F%2Fstorm%3A2990&xdm_p=1",
			"8063ff4ca1e41df7bc90c8ab6d0f6207d491cf6dad7c66ea797b4614b71922e9"},
		{"ampersand in path, context path stripped", "POST", "/jira/rest/api/2/project/jira&a=b&c=d", "x=y", "/jira",
			"POST&/rest/api/2/project/jira%26a=b%26c=d&x=y", ""},
		{"valueless parameters", "GET", "/hello-world", "a&b=foo&c", "", "GET&/hello-world&a=&b=foo&c=", ""},
		{"myself", "GET", "/rest/api/3/myself", "", "", "GET&/rest/api/3/myself&", "c790e863cecddbf1369d5e058d5f71d9d19741a497a6e4681351909109759513"},
		{"confluence context path", "GET", "/wiki/rest/api/user/current", "", "/wiki",
			"GET&/rest/api/user/current&", "0f71f0b9c8a808f0faa897ed4494e7f6336dbdc5356e943ef96fc3dcc0f1ed73"},
		{"app base path", "POST", "/connect/installed", "", "/connect/",
			"POST&/installed&", "4a2e1de8ca74e6cafe8862d332fa3ac7a8e51e692bc6d798ea4dfedc14948bf4"},
		{"context path is a whole segment", "GET", "/wikipedia/x", "", "/wiki", "GET&/wikipedia/x&", ""},
		{"lower-case method", "post", "/x", "", "", "POST&/x&", ""},
		{"raw semicolon is data", "GET", "/x", "a=1;b=2&c=3", "", "GET&/x&a=1%3Bb%3D2&c=3", ""},
		{"malformed escape kept literally", "GET", "/x", "a=%zz&b=%4", "", "GET&/x&a=%25zz&b=%254", ""},
		{"empty pairs skipped", "GET", "/x", "&a=1&&b=2&", "", "GET&/x&a=1&b=2", ""},
		{"prefix keys", "GET", "/x", "a1=2&a=1", "", "GET&/x&a=1&a1=2", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Canonical(c.method, c.path, c.query, c.context)
			if got != c.canonical {
				t.Fatalf("canonical:\n got %q\nwant %q", got, c.canonical)
			}
			if c.qsh != "" && Hash(got) != c.qsh {
				t.Fatalf("qsh: got %s want %s", Hash(got), c.qsh)
			}
		})
	}
}

func TestCanonicalFormMatchesQuery(t *testing.T) {
	form := map[string][]string{"b": {"2", "1"}, "a": {"x y"}, "jwt": {"t"}}
	got := CanonicalForm("post", "/hello/", form, "")
	want := "POST&/hello&a=x%20y&b=1,2"
	if got != want {
		t.Fatalf("got %q want %q", got, want)
	}
	if form["b"][0] != "2" {
		t.Fatal("CanonicalForm reordered the caller's slice")
	}
}

func TestSplitRequestURI(t *testing.T) {
	cases := []struct{ in, path, query string }{
		{"/a/b?c=d", "/a/b", "c=d"},
		{"/a", "/a", ""},
		{"/a?", "/a", ""},
		{"https://h.example:8443/p/q?x=1#frag", "/p/q", "x=1"},
		{"https://h.example?x=1", "?x=1"[:0], "x=1"},
		{"/path!$&'()*+,;=?a=b", "/path!$&'()*+,;=", "a=b"},
	}
	for _, c := range cases {
		p, q := SplitRequestURI(c.in)
		if p != c.path || q != c.query {
			t.Errorf("SplitRequestURI(%q) = %q, %q; want %q, %q", c.in, p, q, c.path, c.query)
		}
	}
}

func TestEncode(t *testing.T) {
	cases := map[string]string{
		"":        "",
		"abc-._~": "abc-._~",
		" ":       "%20",
		"+*":      "%2B%2A",
		"宮":       "%E5%AE%AE",
		"a/b?c":   "a%2Fb%3Fc",
	}
	for in, want := range cases {
		if got := Encode(in); got != want {
			t.Errorf("Encode(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzCanonical checks that canonicalisation never panics, always yields
// METHOD&/...& and is insensitive to where "jwt" sits in the query.
func FuzzCanonical(f *testing.F) {
	for _, v := range officialVectors {
		p, q := SplitRequestURI(v.url)
		f.Add("GET", p, q, "")
	}
	f.Add("POST", "/wiki/x&y/", "jwt=1&a=%", "/wiki")
	f.Fuzz(func(t *testing.T, method, path, query, context string) {
		c := Canonical(method, path, query, context)
		if !strings.HasPrefix(c, strings.ToUpper(method)+"&/") {
			t.Fatalf("canonical %q lacks METHOD&/ prefix", c)
		}
		withJWT := Canonical(method, path, "jwt=abc&"+query, context)
		if withJWT != c && !strings.Contains(query, "jwt") {
			t.Fatalf("jwt parameter changed the canonical form: %q vs %q", withJWT, c)
		}
		if utf8.ValidString(method+path+query+context) && len(Hash(c)) != 64 {
			t.Fatal("hash is not 64 hex characters")
		}
	})
}

// TestUTF16Order: values and Node-ordered names sort as Java and
// JavaScript sort them (verified against atlassian-jwt 2.0.3: an emoji
// sorts before U+FF01).
func TestUTF16Order(t *testing.T) {
	got := Canonical("GET", "/p", "q=%EF%BC%81&q=%F0%9F%98%80", "")
	if want := "GET&/p&q=%F0%9F%98%80,%EF%BC%81"; got != want {
		t.Fatalf("got %q want %q", got, want)
	}
	got = CanonicalNodeOrder("GET", "/p", "%EF%BC%81=1&%F0%9F%98%80=2", "")
	if want := "GET&/p&%F0%9F%98%80=2&%EF%BC%81=1"; got != want {
		t.Fatalf("got %q want %q", got, want)
	}
	for _, c := range []struct{ a, b string }{{"a", "b"}, {"", "a"}, {"ab", "abc"}, {"\U0001F600", "\uFF01"}, {"\U0001F600", "\U0001F601"}, {"z", "\u00e9"}} {
		if compareUTF16(c.a, c.b) >= 0 || compareUTF16(c.b, c.a) <= 0 {
			t.Errorf("%q should sort before %q", c.a, c.b)
		}
	}
}

// TestInvalidUTF8BecomesReplacementCharacter: Node and Java decode %FF to
// U+FFFD, which encodes as %EF%BF%BD.
func TestInvalidUTF8BecomesReplacementCharacter(t *testing.T) {
	if got, want := Canonical("GET", "/p", "q=%FF&r=a%C3", ""), "GET&/p&q=%EF%BF%BD&r=a%EF%BF%BD"; got != want {
		t.Fatalf("got %q want %q", got, want)
	}
}
