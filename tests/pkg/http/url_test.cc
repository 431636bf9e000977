// SPDX-License-Identifier: Apache-2.0
#include "pkg/http/url.h"

#include <gtest/gtest.h>

#include <string>

namespace rebootd::http {
namespace {

struct EncodeCase {
  std::string in;
  std::string out;
};

TEST(PercentEncodeTest, Rfc3986Table) {
  const EncodeCase kCases[] = {
      {"", ""},
      {" ", "%20"},
      {"*", "%2A"},
      {"~", "~"},
      {"+", "%2B"},
      {"/", "%2F"},
      {"=", "%3D"},
      {"&", "%26"},
      {":", "%3A"},
      {"\"", "%22"},
      {"%", "%25"},
      {"\xe4\xb8\xad", "%E4%B8%AD"},  // U+4E2D
      {"AZaz09-_.~", "AZaz09-_.~"},
      {"a b*c~d", "a%20b%2Ac~d"},
      {"i-bp67acfmxazb4ph****", "i-bp67acfmxazb4ph%2A%2A%2A%2A"},
      {"2016-02-23T12:46:24Z", "2016-02-23T12%3A46%3A24Z"},
      {std::string("\0\x7f\xff", 3), "%00%7F%FF"},
  };
  for (const auto& c : kCases) EXPECT_EQ(PercentEncode(c.in), c.out) << c.in;
}

TEST(PercentDecodeTest, DecodesEscapesInEitherCase) {
  auto decoded = PercentDecode("%E4%B8%ad%20a%2a~");
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(*decoded, "\xe4\xb8\xad a*~");
}

TEST(PercentDecodeTest, EmptyString) {
  auto decoded = PercentDecode("");
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(*decoded, "");
}

TEST(PercentDecodeTest, PlusHandling) {
  auto literal = PercentDecode("a+b");
  ASSERT_TRUE(literal.has_value());
  EXPECT_EQ(*literal, "a+b");
  auto space = PercentDecode("a+b%2B", /*plus_is_space=*/true);
  ASSERT_TRUE(space.has_value());
  EXPECT_EQ(*space, "a b+");
}

TEST(PercentDecodeTest, RejectsMalformedEscapes) {
  for (const char* bad : {"%G1", "%4", "%", "abc%", "%4G", "x%zz"}) {
    auto decoded = PercentDecode(bad);
    ASSERT_FALSE(decoded.has_value()) << bad;
    EXPECT_EQ(decoded.error().code, ErrorCode::kInvalidArgument) << bad;
  }
}

TEST(PercentEncodeTest, RoundTripsEveryByte) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  auto decoded = PercentDecode(PercentEncode(all));
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(*decoded, all);
}

TEST(QueryTest, ParseKeepsOrderAndDecodes) {
  auto params = ParseQuery("b=%20x&a=1&c&d=&e=a+b&b=2");
  ASSERT_TRUE(params.has_value());
  const QueryParams expected = {{"b", " x"}, {"a", "1"},   {"c", ""},
                                {"d", ""},   {"e", "a b"}, {"b", "2"}};
  EXPECT_EQ(*params, expected);
}

TEST(QueryTest, ParseEmptyAndStraySeparators) {
  auto empty = ParseQuery("");
  ASSERT_TRUE(empty.has_value());
  EXPECT_TRUE(empty->empty());
  auto stray = ParseQuery("?a=1&&b=2&");
  ASSERT_TRUE(stray.has_value());
  const QueryParams expected = {{"a", "1"}, {"b", "2"}};
  EXPECT_EQ(*stray, expected);
}

TEST(QueryTest, ParseRejectsMalformedEscape) {
  auto params = ParseQuery("a=%G1");
  ASSERT_FALSE(params.has_value());
  EXPECT_EQ(params.error().code, ErrorCode::kInvalidArgument);
}

TEST(QueryTest, BuildEncodesInGivenOrder) {
  const QueryParams params = {{"z", "a b"}, {"a", "x*y"}, {"k=", "&"}, {"empty", ""}};
  EXPECT_EQ(BuildQuery(params), "z=a%20b&a=x%2Ay&k%3D=%26&empty=");
  EXPECT_EQ(BuildQuery({}), "");
}

TEST(QueryTest, BuildThenParseRoundTrips) {
  const QueryParams params = {{"Name", "\xe4\xb8\xad+/ ="}, {"A.1", "~*"}};
  auto parsed = ParseQuery(BuildQuery(params));
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(*parsed, params);
}

TEST(ParseUrlTest, HttpsDefaults) {
  auto url = ParseUrl("https://ecs.cn-hangzhou.aliyuncs.com");
  ASSERT_TRUE(url.has_value()) << url.error().ToString();
  EXPECT_EQ(url->scheme, "https");
  EXPECT_EQ(url->host, "ecs.cn-hangzhou.aliyuncs.com");
  EXPECT_EQ(url->port, 443);
  EXPECT_FALSE(url->explicit_port);
  EXPECT_EQ(url->path, "/");
  EXPECT_EQ(url->HostHeader(), "ecs.cn-hangzhou.aliyuncs.com");
  EXPECT_EQ(url->Origin(), "https://ecs.cn-hangzhou.aliyuncs.com");
}

TEST(ParseUrlTest, HttpWithPortPathAndQuery) {
  auto url = ParseUrl("http://127.0.0.1:8080/api/v1?x=1#frag");
  ASSERT_TRUE(url.has_value()) << url.error().ToString();
  EXPECT_EQ(url->scheme, "http");
  EXPECT_EQ(url->host, "127.0.0.1");
  EXPECT_EQ(url->port, 8080);
  EXPECT_TRUE(url->explicit_port);
  EXPECT_EQ(url->path, "/api/v1");
  EXPECT_EQ(url->HostHeader(), "127.0.0.1:8080");
  EXPECT_EQ(url->Origin(), "http://127.0.0.1:8080");
}

TEST(ParseUrlTest, ExplicitDefaultPortIsNotInHostHeader) {
  auto https = ParseUrl("https://ecm.tencentcloudapi.com:443/");
  ASSERT_TRUE(https.has_value());
  EXPECT_EQ(https->port, 443);
  EXPECT_TRUE(https->explicit_port);
  EXPECT_EQ(https->HostHeader(), "ecm.tencentcloudapi.com");
  auto http = ParseUrl("http://localhost:80");
  ASSERT_TRUE(http.has_value());
  EXPECT_EQ(http->HostHeader(), "localhost");
  EXPECT_EQ(http->port, 80);
  auto cross = ParseUrl("http://localhost:443");
  ASSERT_TRUE(cross.has_value());
  EXPECT_EQ(cross->HostHeader(), "localhost:443");
}

TEST(ParseUrlTest, SchemeAndHostAreCaseInsensitive) {
  auto url = ParseUrl("HTTPS://ECS.Aliyuncs.COM/Path");
  ASSERT_TRUE(url.has_value());
  EXPECT_EQ(url->scheme, "https");
  EXPECT_EQ(url->host, "ecs.aliyuncs.com");
  EXPECT_EQ(url->path, "/Path");
}

TEST(ParseUrlTest, Ipv6Literal) {
  auto url = ParseUrl("http://[::1]:9443/x");
  ASSERT_TRUE(url.has_value()) << url.error().ToString();
  EXPECT_EQ(url->host, "::1");
  EXPECT_EQ(url->port, 9443);
  EXPECT_EQ(url->HostHeader(), "[::1]:9443");
  EXPECT_EQ(url->Origin(), "http://[::1]:9443");
  auto no_port = ParseUrl("https://[2001:db8::1]");
  ASSERT_TRUE(no_port.has_value());
  EXPECT_EQ(no_port->host, "2001:db8::1");
  EXPECT_EQ(no_port->port, 443);
  EXPECT_EQ(no_port->HostHeader(), "[2001:db8::1]");
}

TEST(ParseUrlTest, RejectsGarbage) {
  const char* const kBad[] = {
      "",
      "ecs.aliyuncs.com",       // no scheme
      "ftp://example.com/",     // unsupported scheme
      "https://",               // no host
      "https:///path",          // no host
      "https://:443/",          // no host
      "https://host:/",         // empty port
      "https://host:0/",        // port out of range
      "https://host:65536/",    // port out of range
      "https://host:12a/",      // non-numeric port
      "https://host:-1/",       // negative port
      "https://user:pw@host/",  // userinfo
      "https://ho st/",         // space in host
      "https://[::1/",          // unterminated literal
      "https://[::1]x/",        // junk after literal
      "https://[]/",            // empty literal
      "https://host/pa th",     // space in path
  };
  for (const char* bad : kBad) {
    auto url = ParseUrl(bad);
    ASSERT_FALSE(url.has_value()) << bad;
    EXPECT_EQ(url.error().code, ErrorCode::kInvalidArgument) << bad;
    EXPECT_NE(url.error().message.find("invalid URL"), std::string::npos) << bad;
  }
}

TEST(IsLoopbackHostTest, Table) {
  for (const char* yes :
       {"localhost", "LOCALHOST", "127.0.0.1", "127.1.2.3", "127.255.255.255", "::1", "[::1]"}) {
    EXPECT_TRUE(IsLoopbackHost(yes)) << yes;
  }
  for (const char* no :
       {"", "example.com", "128.0.0.1", "10.0.0.1", "127.0.0", "127.0.0.1.5", "127.0.0.256",
        "127.a.0.1", "::2", "[::2]", "localhost.example.com", "0.0.0.0"}) {
    EXPECT_FALSE(IsLoopbackHost(no)) << no;
  }
}

TEST(ParseEndpointTest, AcceptsOriginsAndRejectsPathsAndGarbage) {
  auto ok = ParseEndpoint("http://127.0.0.1:8080/");
  ASSERT_TRUE(ok) << ok.error().ToString();
  EXPECT_EQ(ok->Origin(), "http://127.0.0.1:8080");
  EXPECT_TRUE(ParseEndpoint("https://ecm.tencentcloudapi.com"));
  auto path = ParseEndpoint("https://ecs.aliyuncs.com/v1");
  ASSERT_FALSE(path);
  EXPECT_EQ(path.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(path.error().message, "endpoint \"https://ecs.aliyuncs.com/v1\" must not have a path");
  auto bad = ParseEndpoint("ftp://x");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message.rfind("bad endpoint \"ftp://x\": ", 0), 0u) << bad.error().message;
}

}  // namespace
}  // namespace rebootd::http
