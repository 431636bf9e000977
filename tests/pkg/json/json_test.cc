// SPDX-License-Identifier: Apache-2.0
#include "pkg/json/json.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

namespace rebootd::json {
namespace {

using ::testing::HasSubstr;
using namespace std::string_literals;
using ::testing::StartsWith;

Value MustParse(std::string_view text) {
  Result<Value> v = Parse(text);
  EXPECT_TRUE(v.has_value()) << text << " -> " << (v ? "" : v.error().message);
  return v ? *v : Value();
}

std::string ParseError(std::string_view text) {
  Result<Value> v = Parse(text);
  EXPECT_FALSE(v.has_value()) << "parsed unexpectedly: " << text;
  if (v) return "";
  EXPECT_EQ(v.error().code, ErrorCode::kInvalidArgument);
  return v.error().message;
}

TEST(JsonParseTest, Scalars) {
  EXPECT_TRUE(MustParse("null").is_null());
  EXPECT_TRUE(MustParse("true").AsBool());
  EXPECT_TRUE(MustParse("false").is_bool());
  EXPECT_FALSE(MustParse("false").AsBool());
  EXPECT_EQ(MustParse("\"hi\"").AsString(), "hi");
  EXPECT_EQ(MustParse("  \t\r\n 42 \n").AsInt(), 42);
}

TEST(JsonParseTest, RoundTripsCompactText) {
  const char* kTexts[] = {
      R"({"a":1,"b":[true,false,null],"c":{"d":"e","f":-2.5},"g":[],"h":{}})",
      R"([1,-1,0,1.5,-0.25,1e+100,"x",[[[]]]])",
      R"({"RequestId":"6EF60BEC","InstanceStatusSet":[{"InstanceId":"ein-1","Status":"RUNNING"}]})",
      R"("a/b \"q\" \\ \n\t\r\b\f\u0001\u001f é 中 😀")",
  };
  for (const char* text : kTexts) {
    Value v = MustParse(text);
    EXPECT_EQ(v.Dump(), text);
    EXPECT_EQ(MustParse(v.Dump()), v);
    EXPECT_EQ(MustParse(v.DumpPretty()), v);
  }
}

TEST(JsonParseTest, EveryEscape) {
  Value v = MustParse(R"("\" \\ \/ \b \f \n \r \t \u0041 \u00e9 \u4e2d \u0000")");
  EXPECT_EQ(v.AsString(), "\" \\ / \b \f \n \r \t A \xC3\xA9 \xE4\xB8\xAD \0"s);
  // Dump: '/' stays, short escapes used, other controls as \u00XX, UTF-8 kept.
  EXPECT_EQ(v.Dump(), R"("\" \\ / \b \f \n \r \t A é 中 \u0000")");
}

TEST(JsonParseTest, SurrogatePairsDecodeToUtf8) {
  EXPECT_EQ(MustParse(R"("\ud83d\ude00")").AsString(), "\xF0\x9F\x98\x80");  // U+1F600
  EXPECT_EQ(MustParse(R"("\uD834\uDD1E")").AsString(), "\xF0\x9D\x84\x9E");  // U+1D11E
  EXPECT_EQ(MustParse(R"("\udbff\udfff")").AsString(), "\xF4\x8F\xBF\xBF");  // U+10FFFF
  EXPECT_THAT(ParseError(R"("\ud83d")"), HasSubstr("surrogate"));
  EXPECT_THAT(ParseError(R"("\ud83dx")"), HasSubstr("surrogate"));
  EXPECT_THAT(ParseError(R"("\ud83d\u0041")"), HasSubstr("surrogate"));
  EXPECT_THAT(ParseError(R"("\ude00")"), HasSubstr("lone low surrogate"));
}

TEST(JsonParseTest, RejectsBadStrings) {
  EXPECT_EQ(ParseError(R"("\x")"), "line 1, column 2: invalid escape '\\x' in string");
  EXPECT_THAT(ParseError(R"("\u12G4")"), HasSubstr("invalid hex digit 'G'"));
  EXPECT_THAT(ParseError(R"("\u12")"), HasSubstr("\\u escape"));
  EXPECT_EQ(ParseError("\"a\tb\""),
            "line 1, column 3: unescaped control character byte 0x09 in string");
  EXPECT_THAT(ParseError("\"a\nb\""), HasSubstr("control character"));
  EXPECT_EQ(ParseError("\"abc"), "line 1, column 1: unterminated string");
  EXPECT_THAT(ParseError("\"\xFF\""), HasSubstr("UTF-8"));
  EXPECT_THAT(ParseError("\"\xC3\""), HasSubstr("UTF-8"));
  EXPECT_THAT(ParseError("\"\xE0\x80\x80\""), HasSubstr("UTF-8"));  // overlong
  EXPECT_THAT(ParseError("\"\xED\xA0\x80\""), HasSubstr("UTF-8"));  // encoded surrogate
}

TEST(JsonParseTest, IntegersStayExact) {
  Value max = MustParse("9223372036854775807");
  EXPECT_TRUE(max.is_integer());
  EXPECT_EQ(max.AsInt(), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(max.Dump(), "9223372036854775807");
  Value min = MustParse("-9223372036854775808");
  EXPECT_TRUE(min.is_integer());
  EXPECT_EQ(min.AsInt(), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(min.Dump(), "-9223372036854775808");
  // Beyond int64: a double.
  Value big = MustParse("9223372036854775808");
  EXPECT_TRUE(big.is_number());
  EXPECT_FALSE(big.is_integer());
  EXPECT_DOUBLE_EQ(big.AsDouble(), 9223372036854775808.0);
  Value u64max = MustParse("18446744073709551615");
  EXPECT_FALSE(u64max.is_integer());
  EXPECT_DOUBLE_EQ(u64max.AsDouble(), 18446744073709551615.0);
  EXPECT_FALSE(MustParse("1.0").is_integer());
  EXPECT_FALSE(MustParse("1e2").is_integer());
  EXPECT_TRUE(MustParse("-0").is_integer());
}

TEST(JsonParseTest, DoublesRoundTrip) {
  for (double d : {0.1, -2.5, 1e-300, 1.7976931348623157e308, 3.141592653589793, 5e-324, 123456.789,
                   1e21, 2.0}) {
    Value v(d);
    Value back = MustParse(v.Dump());
    EXPECT_FALSE(back.is_integer()) << v.Dump();
    EXPECT_EQ(back.AsDouble(), d) << v.Dump();
  }
  EXPECT_EQ(Value(0.1).Dump(), "0.1");
  EXPECT_EQ(Value(2.0).Dump(), "2.0");
  EXPECT_EQ(Value(1e100).Dump(), "1e+100");
  EXPECT_DOUBLE_EQ(MustParse("1.5E-3").AsDouble(), 0.0015);
  EXPECT_DOUBLE_EQ(MustParse("-12.5e+2").AsDouble(), -1250);
  EXPECT_EQ(MustParse("1e-400").AsDouble(), 0.0);  // underflow rounds to zero
  EXPECT_THAT(ParseError("1e400"), HasSubstr("out of range"));
  EXPECT_EQ(Value(std::nan("")).Dump(), "null");
  EXPECT_EQ(Value(std::numeric_limits<double>::infinity()).Dump(), "null");
}

TEST(JsonParseTest, RejectsBadNumbers) {
  EXPECT_EQ(ParseError("01"), "line 1, column 2: leading zeros are not allowed in numbers");
  EXPECT_THAT(ParseError("1."), HasSubstr("digit after '.'"));
  EXPECT_THAT(ParseError(".5"), HasSubstr("unexpected '.'"));
  EXPECT_THAT(ParseError("+1"), HasSubstr("unexpected '+'"));
  EXPECT_THAT(ParseError("1e"), HasSubstr("exponent"));
  EXPECT_THAT(ParseError("-"), HasSubstr("end of input"));
  EXPECT_EQ(ParseError("NaN"), "line 1, column 1: unexpected 'N', expected a value");
  EXPECT_THAT(ParseError("-Infinity"), HasSubstr("column 2"));
  EXPECT_THAT(ParseError("[0x10]"), HasSubstr("column 3"));
}

TEST(JsonParseTest, ErrorPositions) {
  EXPECT_EQ(ParseError(""), "line 1, column 1: empty input");
  EXPECT_EQ(ParseError("  \n "), "line 2, column 2: unexpected end of input, expected a value");
  // Truncated body.
  EXPECT_EQ(ParseError(R"({"a":[1,2)"),
            "line 1, column 10: unexpected end of input, expected ',' or ']'");
  EXPECT_EQ(ParseError(R"({"a":1)"),
            "line 1, column 7: unexpected end of input, expected ',' or '}'");
  EXPECT_EQ(ParseError("{\"a\"\n  1}"), "line 2, column 3: unexpected '1', expected ':'");
  EXPECT_EQ(ParseError(R"({"a":1 "b":2})"),
            "line 1, column 8: unexpected '\"', expected ',' or '}'");
  // An HTML error page from a proxy.
  EXPECT_EQ(ParseError("<html><body>502 Bad Gateway</body></html>"),
            "line 1, column 1: unexpected '<' (the input looks like HTML or XML, not JSON)");
  // An XML answer (Aliyun's default format).
  EXPECT_THAT(ParseError("\n<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>"),
              StartsWith("line 2, column 1: unexpected '<'"));
  // Trailing commas.
  EXPECT_EQ(ParseError("[1,2,]"), "line 1, column 6: trailing comma before ']'");
  EXPECT_EQ(ParseError(R"({"a":1,})"), "line 1, column 8: trailing comma before '}'");
  // Single quotes.
  EXPECT_EQ(ParseError("{'a':1}"), "line 1, column 2: unexpected ''', expected a string key");
  EXPECT_EQ(ParseError("'a'"), "line 1, column 1: unexpected ''' (strings must use double quotes)");
  // Trailing garbage.
  EXPECT_EQ(ParseError("{} x"), "line 1, column 4: unexpected 'x' after the JSON value");
  EXPECT_EQ(ParseError("1 2"), "line 1, column 3: unexpected '2' after the JSON value");
  // Bad literals.
  EXPECT_EQ(ParseError("[tru]"), "line 1, column 2: invalid literal, expected 'true'");
  EXPECT_THAT(ParseError("nul"), HasSubstr("expected 'null'"));
  EXPECT_THAT(ParseError("[1;2]"), HasSubstr("unexpected ';'"));
}

TEST(JsonParseTest, NestingLimit) {
  std::string ok = std::string(512, '[') + std::string(512, ']');
  EXPECT_TRUE(Parse(ok).has_value());
  std::string deep = std::string(513, '[') + std::string(513, ']');
  EXPECT_EQ(ParseError(deep), "line 1, column 513: nesting deeper than 512 levels");
  std::string objects;
  for (int i = 0; i < 513; ++i) objects += "{\"a\":";
  objects += "1" + std::string(513, '}');
  EXPECT_THAT(ParseError(objects), HasSubstr("nesting deeper than 512 levels"));
  // Far deeper input fails quickly instead of overflowing the stack.
  EXPECT_THAT(ParseError(std::string(100000, '[')), HasSubstr("nesting"));
}

TEST(JsonParseTest, DuplicateKeysLastWins) {
  Value v = MustParse(R"({"a":1,"b":2,"a":3})");
  EXPECT_EQ(v.size(), 2u);
  EXPECT_EQ(v.Dump(), R"({"a":3,"b":2})");
}

TEST(JsonValueTest, ObjectKeepsInsertionOrder) {
  Value v;
  v["zeta"] = 1;
  v["alpha"] = "two";
  v.Set("mid", Value::MakeArray());
  v["alpha"] = 2;  // existing key keeps its place
  EXPECT_EQ(v.Dump(), R"({"zeta":1,"alpha":2,"mid":[]})");
  EXPECT_EQ(MustParse(R"({"z":1,"a":2,"m":3})").Dump(), R"({"z":1,"a":2,"m":3})");
}

TEST(JsonValueTest, SetEraseFindAndIndex) {
  Value v;  // null
  EXPECT_EQ(v.Find("a"), nullptr);
  EXPECT_FALSE(v.Erase("a"));
  Value& a = v["a"];  // inserts null, converts v to an object
  EXPECT_TRUE(v.is_object());
  EXPECT_TRUE(a.is_null());
  EXPECT_EQ(v.size(), 1u);
  v.Set("b", 5);
  v.Set("a", "x");  // replaces
  EXPECT_EQ(v.Dump(), R"({"a":"x","b":5})");
  ASSERT_NE(v.Find("b"), nullptr);
  EXPECT_EQ(v.Find("b")->AsInt(), 5);
  v.Find("b")->PushBack(1);  // non-array replaced by an array
  EXPECT_EQ(v.Dump(), R"({"a":"x","b":[1]})");
  EXPECT_TRUE(v.Erase("a"));
  EXPECT_FALSE(v.Erase("a"));
  EXPECT_EQ(v.Dump(), R"({"b":[1]})");
  const Value& cv = v;
  EXPECT_EQ(cv.Find("nope"), nullptr);
  Value s("str");
  EXPECT_EQ(s.Find("a"), nullptr);
  EXPECT_EQ(s.size(), 0u);
}

TEST(JsonValueTest, ArraysAndBuilders) {
  Value arr;
  arr.PushBack(1);
  arr.PushBack("two");
  arr.PushBack(Value::MakeObject());
  EXPECT_EQ(arr.size(), 3u);
  EXPECT_EQ(arr.Dump(), R"([1,"two",{}])");
  Value built(Value::Object{{"ids", Value::Array{"ein-1", "ein-2"}}, {"n", 2}});
  EXPECT_EQ(built.Dump(), R"({"ids":["ein-1","ein-2"],"n":2})");
  EXPECT_EQ(built.DumpPretty(),
            "{\n  \"ids\": [\n    \"ein-1\",\n    \"ein-2\"\n  ],\n  \"n\": 2\n}");
  EXPECT_EQ(Value::MakeArray().DumpPretty(), "[]");
  EXPECT_EQ(Value().DumpPretty(), "null");
}

TEST(JsonValueTest, ConstructorsAndAccessorDefaults) {
  EXPECT_TRUE(Value(nullptr).is_null());
  EXPECT_TRUE(Value(int64_t{-3}).is_integer());
  EXPECT_TRUE(Value(7u).is_integer());
  EXPECT_TRUE(Value(7LL).is_integer());
  EXPECT_TRUE(Value(size_t{7}).is_integer());
  EXPECT_TRUE(Value(std::numeric_limits<uint64_t>::max()).is_number());
  EXPECT_FALSE(Value(std::numeric_limits<uint64_t>::max()).is_integer());
  EXPECT_TRUE(Value(std::string_view("sv")).is_string());
  EXPECT_TRUE(Value(std::string("s")).is_string());
  Value s("text");
  EXPECT_EQ(s.AsInt(), 0);
  EXPECT_EQ(s.AsDouble(), 0);
  EXPECT_FALSE(s.AsBool());
  EXPECT_TRUE(s.AsArray().empty());  // non-const on a string: replaced by an empty array
  EXPECT_TRUE(s.is_array());
  Value n(42);
  EXPECT_EQ(n.AsString(), "");
  const Value& cn = n;
  EXPECT_TRUE(cn.AsArray().empty());
  EXPECT_TRUE(cn.AsObject().empty());
  EXPECT_EQ(Value(2.9).AsInt(), 2);
  EXPECT_EQ(Value(-2.9).AsInt(), -2);
  EXPECT_EQ(Value(1e30).AsInt(), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(Value(3).AsDouble(), 3.0);
}

TEST(JsonValueTest, DeepEquality) {
  EXPECT_EQ(Value(1), Value(1.0));
  EXPECT_EQ(MustParse("1"), MustParse("1.0"));
  EXPECT_FALSE(Value(1) == Value(2));
  EXPECT_FALSE(Value(1) == Value("1"));
  EXPECT_FALSE(Value() == Value(false));
  EXPECT_EQ(MustParse(R"({"a":[1,{"b":null}],"c":"d"})"),
            MustParse(R"({"c":"d","a":[1,{"b":null}]})"));
  EXPECT_FALSE(MustParse(R"({"a":[1,2]})") == MustParse(R"({"a":[2,1]})"));
  EXPECT_FALSE(MustParse(R"({"a":1})") == MustParse(R"({"a":1,"b":2})"));
  EXPECT_FALSE(MustParse(R"({"a":1})") == MustParse(R"({"b":1})"));
}

TEST(JsonQuoteTest, EscapesAsDump) {
  EXPECT_EQ(Quote("plain"), "\"plain\"");
  EXPECT_EQ(Quote("a\"b\\c/d\x7f"), "\"a\\\"b\\\\c/d\x7f\"");
  EXPECT_EQ(Quote(std::string_view("\x01\x1f\n", 3)), R"("\u0001\u001f\n")");
  EXPECT_EQ(Quote("中"), "\"中\"");
}

}  // namespace
}  // namespace rebootd::json
