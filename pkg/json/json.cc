// SPDX-License-Identifier: Apache-2.0
#include "pkg/json/json.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>
#include <system_error>

#include <locale.h>
#include <stdlib.h>

namespace rebootd::json {

Value::Value(bool b) : type_(Type::kBool), bool_(b) {}
Value::Value(int i) : type_(Type::kNumber), is_int_(true), int_(i), double_(i) {}
Value::Value(int64_t i)
    : type_(Type::kNumber), is_int_(true), int_(i), double_(static_cast<double>(i)) {}
Value::Value(uint64_t i) : type_(Type::kNumber) {
  if (i <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    is_int_ = true;
    int_ = static_cast<int64_t>(i);
  }
  double_ = static_cast<double>(i);
}
Value::Value(double d) : type_(Type::kNumber), double_(d) {}
Value::Value(const char* s) : type_(Type::kString), string_(s == nullptr ? "" : s) {}
Value::Value(std::string s) : type_(Type::kString), string_(std::move(s)) {}
Value::Value(std::string_view s) : type_(Type::kString), string_(s) {}
Value::Value(Array a) : type_(Type::kArray), array_(std::move(a)) {}
Value::Value(Object o) : type_(Type::kObject), object_(std::move(o)) {}

bool Value::AsBool() const { return type_ == Type::kBool && bool_; }

double Value::AsDouble() const {
  if (type_ != Type::kNumber) return 0;
  return is_int_ ? static_cast<double>(int_) : double_;
}

int64_t Value::AsInt() const {
  if (type_ != Type::kNumber) return 0;
  if (is_int_) return int_;
  // Saturating truncation toward zero; NaN gives 0.
  if (std::isnan(double_)) return 0;
  constexpr double kTwo63 = 9223372036854775808.0;
  if (double_ >= kTwo63) return std::numeric_limits<int64_t>::max();
  if (double_ < -kTwo63) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(double_);
}

const std::string& Value::AsString() const {
  static const std::string kEmpty;
  return type_ == Type::kString ? string_ : kEmpty;
}

const Value::Array& Value::AsArray() const {
  static const Array kEmpty;
  return type_ == Type::kArray ? array_ : kEmpty;
}

Value::Array& Value::AsArray() {
  if (type_ != Type::kArray) *this = MakeArray();
  return array_;
}

const Value::Object& Value::AsObject() const {
  static const Object kEmpty;
  return type_ == Type::kObject ? object_ : kEmpty;
}

Value::Object& Value::AsObject() {
  if (type_ != Type::kObject) *this = MakeObject();
  return object_;
}

const Value* Value::Find(std::string_view key) const {
  if (type_ != Type::kObject) return nullptr;
  for (const auto& [k, v] : object_) {
    if (k == key) return &v;
  }
  return nullptr;
}

Value* Value::Find(std::string_view key) {
  return const_cast<Value*>(static_cast<const Value*>(this)->Find(key));
}

Value& Value::operator[](std::string_view key) {
  if (Value* v = Find(key)) return *v;
  Object& o = AsObject();
  o.emplace_back(std::string(key), Value());
  return o.back().second;
}

void Value::Set(std::string key, Value v) {
  if (Value* existing = Find(key)) {
    *existing = std::move(v);
    return;
  }
  AsObject().emplace_back(std::move(key), std::move(v));
}

bool Value::Erase(std::string_view key) {
  if (type_ != Type::kObject) return false;
  for (auto it = object_.begin(); it != object_.end(); ++it) {
    if (it->first == key) {
      object_.erase(it);
      return true;
    }
  }
  return false;
}

void Value::PushBack(Value v) { AsArray().push_back(std::move(v)); }

size_t Value::size() const {
  if (type_ == Type::kArray) return array_.size();
  if (type_ == Type::kObject) return object_.size();
  return 0;
}

bool operator==(const Value& a, const Value& b) {
  if (a.type_ != b.type_) return false;
  switch (a.type_) {
    case Value::Type::kNull:
      return true;
    case Value::Type::kBool:
      return a.bool_ == b.bool_;
    case Value::Type::kNumber:
      if (a.is_int_ && b.is_int_) return a.int_ == b.int_;
      return a.AsDouble() == b.AsDouble();
    case Value::Type::kString:
      return a.string_ == b.string_;
    case Value::Type::kArray:
      return a.array_ == b.array_;
    case Value::Type::kObject: {
      // Keys are unique (Set/operator[]/Parse keep them so), so same size plus every key of `a`
      // found with an equal value in `b` means equal, regardless of order.
      if (a.object_.size() != b.object_.size()) return false;
      for (const auto& [k, v] : a.object_) {
        const Value* other = b.Find(k);
        if (other == nullptr || !(*other == v)) return false;
      }
      return true;
    }
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Serialisation.

namespace {

void AppendQuoted(std::string_view s, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (u < 0x20) {
          out += "\\u00";
          out.push_back(kHex[u >> 4]);
          out.push_back(kHex[u & 0xF]);
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

void AppendDouble(double d, std::string& out) {
  // JSON has no NaN or infinities.
  if (!std::isfinite(d)) {
    out += "null";
    return;
  }
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), d);  // shortest round-trip form
  if (ec != std::errc()) {
    out += "null";
    return;
  }
  std::string_view text(buf, static_cast<size_t>(end - buf));
  out += text;
  // Keep a non-integer-typed number non-integer after a round trip ("2" would parse as int).
  if (text.find_first_of(".e") == std::string_view::npos) out += ".0";
}

void AppendIndent(int indent, int depth, std::string& out) {
  if (indent <= 0) return;
  out.push_back('\n');
  out.append(static_cast<size_t>(indent) * static_cast<size_t>(depth), ' ');
}

// Writes `v` into `out`; `indent` 0 means compact.
void AppendValue(const Value& v, int indent, int depth, std::string& out) {
  switch (v.type()) {
    case Value::Type::kNull:
      out += "null";
      return;
    case Value::Type::kBool:
      out += v.AsBool() ? "true" : "false";
      return;
    case Value::Type::kNumber:
      if (v.is_integer()) {
        out += std::to_string(v.AsInt());
      } else {
        AppendDouble(v.AsDouble(), out);
      }
      return;
    case Value::Type::kString:
      AppendQuoted(v.AsString(), out);
      return;
    case Value::Type::kArray: {
      const Value::Array& a = v.AsArray();
      if (a.empty()) {
        out += "[]";
        return;
      }
      out.push_back('[');
      for (size_t i = 0; i < a.size(); ++i) {
        if (i > 0) out.push_back(',');
        AppendIndent(indent, depth + 1, out);
        AppendValue(a[i], indent, depth + 1, out);
      }
      AppendIndent(indent, depth, out);
      out.push_back(']');
      return;
    }
    case Value::Type::kObject: {
      const Value::Object& o = v.AsObject();
      if (o.empty()) {
        out += "{}";
        return;
      }
      out.push_back('{');
      for (size_t i = 0; i < o.size(); ++i) {
        if (i > 0) out.push_back(',');
        AppendIndent(indent, depth + 1, out);
        AppendQuoted(o[i].first, out);
        out += indent > 0 ? ": " : ":";
        AppendValue(o[i].second, indent, depth + 1, out);
      }
      AppendIndent(indent, depth, out);
      out.push_back('}');
      return;
    }
  }
}

}  // namespace

std::string Value::Dump() const {
  std::string out;
  AppendValue(*this, 0, 0, out);
  return out;
}

std::string Value::DumpPretty() const {
  std::string out;
  AppendValue(*this, 2, 0, out);
  return out;
}

std::string Quote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  AppendQuoted(s, out);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Parsing: a recursive-descent parser over bytes. Errors carry the 1-based line and column (in
// bytes) of the offending byte.

namespace {

constexpr int kMaxDepth = 512;

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  Result<Value> ParseDocument() {
    SkipWhitespace();
    if (AtEnd()) {
      return Fail(text_.empty() ? "empty input" : "unexpected end of input, expected a value");
    }
    Value v;
    REBOOTD_RETURN_IF_ERROR(ParseValue(v, 0));
    SkipWhitespace();
    if (!AtEnd()) return Fail("unexpected " + Describe(Peek()) + " after the JSON value");
    return v;
  }

 private:
  bool AtEnd() const { return pos_ >= text_.size(); }
  char Peek() const { return text_[pos_]; }

  void SkipWhitespace() {
    while (!AtEnd()) {
      char c = Peek();
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
      ++pos_;
    }
  }

  static std::string Describe(char c) {
    auto u = static_cast<unsigned char>(c);
    if (u >= 0x21 && u < 0x7F) return std::string("'") + c + "'";
    static constexpr char kHex[] = "0123456789ABCDEF";
    return std::string("byte 0x") + kHex[u >> 4] + kHex[u & 0xF];
  }

  tl::unexpected<Error> Fail(std::string_view message) const { return FailAt(pos_, message); }

  tl::unexpected<Error> FailAt(size_t offset, std::string_view message) const {
    size_t line = 1;
    size_t column = 1;
    for (size_t i = 0; i < offset && i < text_.size(); ++i) {
      if (text_[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    return MakeError(ErrorCode::kInvalidArgument, "line " + std::to_string(line) + ", column " +
                                                      std::to_string(column) + ": " +
                                                      std::string(message));
  }

  Status ParseValue(Value& out, int depth) {
    if (AtEnd()) return Fail("unexpected end of input, expected a value");
    char c = Peek();
    switch (c) {
      case '{':
        return ParseObject(out, depth + 1);
      case '[':
        return ParseArray(out, depth + 1);
      case '"': {
        std::string s;
        REBOOTD_RETURN_IF_ERROR(ParseString(s));
        out = Value(std::move(s));
        return OkStatus();
      }
      case 't':
        return ParseLiteral("true", Value(true), out);
      case 'f':
        return ParseLiteral("false", Value(false), out);
      case 'n':
        return ParseLiteral("null", Value(), out);
      case '<':
        return Fail("unexpected '<' (the input looks like HTML or XML, not JSON)");
      case '\'':
        return Fail("unexpected ''' (strings must use double quotes)");
      default:
        if (c == '-' || (c >= '0' && c <= '9')) return ParseNumber(out);
        return Fail("unexpected " + Describe(c) + ", expected a value");
    }
  }

  Status ParseLiteral(std::string_view word, Value value, Value& out) {
    if (text_.substr(pos_, word.size()) != word) {
      return Fail("invalid literal, expected '" + std::string(word) + "'");
    }
    pos_ += word.size();
    out = std::move(value);
    return OkStatus();
  }

  Status ParseObject(Value& out, int depth) {
    if (depth > kMaxDepth) return Fail("nesting deeper than 512 levels");
    ++pos_;  // '{'
    out = Value::MakeObject();
    SkipWhitespace();
    if (!AtEnd() && Peek() == '}') {
      ++pos_;
      return OkStatus();
    }
    while (true) {
      SkipWhitespace();
      if (AtEnd()) return Fail("unexpected end of input, expected a string key");
      if (Peek() != '"') {
        if (Peek() == '}') return Fail("trailing comma before '}'");
        return Fail("unexpected " + Describe(Peek()) + ", expected a string key");
      }
      std::string key;
      REBOOTD_RETURN_IF_ERROR(ParseString(key));
      SkipWhitespace();
      if (AtEnd()) return Fail("unexpected end of input, expected ':'");
      if (Peek() != ':') return Fail("unexpected " + Describe(Peek()) + ", expected ':'");
      ++pos_;
      SkipWhitespace();
      Value member;
      REBOOTD_RETURN_IF_ERROR(ParseValue(member, depth));
      out.Set(std::move(key), std::move(member));  // duplicate keys: the last one wins
      SkipWhitespace();
      if (AtEnd()) return Fail("unexpected end of input, expected ',' or '}'");
      char c = Peek();
      ++pos_;
      if (c == '}') return OkStatus();
      if (c != ',') {
        --pos_;
        return Fail("unexpected " + Describe(c) + ", expected ',' or '}'");
      }
    }
  }

  Status ParseArray(Value& out, int depth) {
    if (depth > kMaxDepth) return Fail("nesting deeper than 512 levels");
    ++pos_;  // '['
    out = Value::MakeArray();
    Value::Array& elements = out.AsArray();
    SkipWhitespace();
    if (!AtEnd() && Peek() == ']') {
      ++pos_;
      return OkStatus();
    }
    while (true) {
      SkipWhitespace();
      if (!AtEnd() && Peek() == ']') return Fail("trailing comma before ']'");
      Value element;
      REBOOTD_RETURN_IF_ERROR(ParseValue(element, depth));
      elements.push_back(std::move(element));
      SkipWhitespace();
      if (AtEnd()) return Fail("unexpected end of input, expected ',' or ']'");
      char c = Peek();
      if (c == ']') {
        ++pos_;
        return OkStatus();
      }
      if (c != ',') return Fail("unexpected " + Describe(c) + ", expected ',' or ']'");
      ++pos_;
    }
  }

  // Reads 4 hex digits at pos_ (after "\u").
  Result<uint32_t> ParseHex4() {
    if (text_.size() - pos_ < 4) {
      return Fail("unexpected end of input in \\u escape");
    }
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      char c = text_[pos_];
      v <<= 4;
      if (c >= '0' && c <= '9') {
        v |= static_cast<uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        v |= static_cast<uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        v |= static_cast<uint32_t>(c - 'A' + 10);
      } else {
        return Fail("invalid hex digit " + Describe(c) + " in \\u escape");
      }
      ++pos_;
    }
    return v;
  }

  static void AppendUtf8(uint32_t cp, std::string& out) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  // Validates one UTF-8 sequence starting at pos_ (a byte >= 0x80) and copies it to `out`.
  Status CopyUtf8Sequence(std::string& out) {
    const size_t start = pos_;
    auto lead = static_cast<unsigned char>(text_[pos_]);
    size_t length;
    uint32_t cp;
    if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2;
      cp = lead & 0x1F;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      length = 3;
      cp = lead & 0x0F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      length = 4;
      cp = lead & 0x07;
    } else {
      return Fail("invalid UTF-8 byte in string");
    }
    if (text_.size() - pos_ < length) return Fail("truncated UTF-8 sequence in string");
    for (size_t i = 1; i < length; ++i) {
      auto b = static_cast<unsigned char>(text_[pos_ + i]);
      if ((b & 0xC0) != 0x80) return FailAt(pos_ + i, "invalid UTF-8 sequence in string");
      cp = (cp << 6) | (b & 0x3F);
    }
    const bool overlong = (length == 3 && cp < 0x800) || (length == 4 && cp < 0x10000);
    if (overlong || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return Fail("invalid UTF-8 sequence in string");
    }
    out.append(text_.substr(start, length));
    pos_ += length;
    return OkStatus();
  }

  Status ParseString(std::string& out) {
    const size_t open = pos_;
    ++pos_;  // '"'
    while (true) {
      if (AtEnd()) return FailAt(open, "unterminated string");
      char c = Peek();
      auto u = static_cast<unsigned char>(c);
      if (c == '"') {
        ++pos_;
        return OkStatus();
      }
      if (u < 0x20) return Fail("unescaped control character " + Describe(c) + " in string");
      if (u >= 0x80) {
        REBOOTD_RETURN_IF_ERROR(CopyUtf8Sequence(out));
        continue;
      }
      if (c != '\\') {
        out.push_back(c);
        ++pos_;
        continue;
      }
      const size_t escape = pos_;
      ++pos_;
      if (AtEnd()) return FailAt(open, "unterminated string");
      char e = Peek();
      ++pos_;
      switch (e) {
        case '"':
          out.push_back('"');
          break;
        case '\\':
          out.push_back('\\');
          break;
        case '/':
          out.push_back('/');
          break;
        case 'b':
          out.push_back('\b');
          break;
        case 'f':
          out.push_back('\f');
          break;
        case 'n':
          out.push_back('\n');
          break;
        case 'r':
          out.push_back('\r');
          break;
        case 't':
          out.push_back('\t');
          break;
        case 'u': {
          REBOOTD_ASSIGN_OR_RETURN(uint32_t cp, ParseHex4());
          if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return FailAt(escape, "invalid \\u escape: lone low surrogate");
          }
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (text_.substr(pos_, 2) != "\\u") {
              return FailAt(escape, "invalid \\u escape: high surrogate without a low surrogate");
            }
            pos_ += 2;
            REBOOTD_ASSIGN_OR_RETURN(uint32_t low, ParseHex4());
            if (low < 0xDC00 || low > 0xDFFF) {
              return FailAt(escape, "invalid \\u escape: high surrogate without a low surrogate");
            }
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          AppendUtf8(cp, out);
          break;
        }
        default:
          return FailAt(escape, "invalid escape '\\" + std::string(1, e) + "' in string");
      }
    }
  }

  Status ParseNumber(Value& out) {
    const size_t start = pos_;
    bool integral = true;
    if (Peek() == '-') ++pos_;
    if (AtEnd() || !IsDigit(Peek())) {
      return AtEnd() ? Fail("unexpected end of input in number")
                     : Fail("unexpected " + Describe(Peek()) + " in number, expected a digit");
    }
    if (Peek() == '0') {
      ++pos_;
      if (!AtEnd() && IsDigit(Peek())) return Fail("leading zeros are not allowed in numbers");
    } else {
      while (!AtEnd() && IsDigit(Peek())) ++pos_;
    }
    if (!AtEnd() && Peek() == '.') {
      integral = false;
      ++pos_;
      if (AtEnd() || !IsDigit(Peek())) return Fail("expected a digit after '.' in number");
      while (!AtEnd() && IsDigit(Peek())) ++pos_;
    }
    if (!AtEnd() && (Peek() == 'e' || Peek() == 'E')) {
      integral = false;
      ++pos_;
      if (!AtEnd() && (Peek() == '+' || Peek() == '-')) ++pos_;
      if (AtEnd() || !IsDigit(Peek())) return Fail("expected a digit in the number's exponent");
      while (!AtEnd() && IsDigit(Peek())) ++pos_;
    }
    const std::string_view literal = text_.substr(start, pos_ - start);
    if (integral) {
      int64_t i = 0;
      auto [ptr, ec] = std::from_chars(literal.data(), literal.data() + literal.size(), i);
      if (ec == std::errc() && ptr == literal.data() + literal.size()) {
        out = Value(i);
        return OkStatus();
      }
      // Too large for int64: fall through to a double.
    }
    // from_chars is locale-independent and correctly rounded.
    double d = 0;
    auto [ptr, ec] = std::from_chars(literal.data(), literal.data() + literal.size(), d);
    if (ec == std::errc::result_out_of_range) {
      // Underflow rounds toward zero (strtod gives the nearest denormal or zero); overflow has
      // no JSON representation. strtod_l with the C locale so '.' is always the decimal point.
      static const locale_t kCLocale = newlocale(LC_ALL_MASK, "C", static_cast<locale_t>(0));
      const std::string copy(literal);
      d = strtod_l(copy.c_str(), nullptr, kCLocale);
      if (std::isinf(d)) return FailAt(start, "number out of range");
    } else if (ec != std::errc() || ptr != literal.data() + literal.size()) {
      return FailAt(start, "invalid number");
    }
    out = Value(d);
    return OkStatus();
  }

  static bool IsDigit(char c) { return c >= '0' && c <= '9'; }

  std::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

Result<Value> Parse(std::string_view text) { return Parser(text).ParseDocument(); }

}  // namespace rebootd::json
