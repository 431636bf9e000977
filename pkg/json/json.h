// SPDX-License-Identifier: Apache-2.0
// A small JSON document model (RFC 8259): parse, build, inspect, serialise. Objects keep their
// insertion order; integers up to 64 bits are kept exactly. Values are plain data: not
// thread-safe for concurrent mutation, safe for concurrent reads.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "pkg/base/result.h"

namespace rebootd::json {

class Value {
 public:
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };
  using Array = std::vector<Value>;
  using Object = std::vector<std::pair<std::string, Value>>;

  Value() = default;  // null
  Value(std::nullptr_t) {}
  Value(bool b);
  Value(int i);
  Value(int64_t i);
  Value(uint64_t i);  // values above INT64_MAX become doubles
  // Any other integer type (unsigned, long long, int16_t, ...); char types and bool excluded.
  template <class T>
  requires(std::is_integral_v<T> && !std::is_same_v<T, bool> && !std::is_same_v<T, char> &&
           !std::is_same_v<T, int> && !std::is_same_v<T, int64_t> && !std::is_same_v<T, uint64_t> &&
           !std::is_same_v<T, char8_t> && !std::is_same_v<T, char16_t> &&
           !std::is_same_v<T, char32_t> && !std::is_same_v<T, wchar_t>) Value(T i)
      : Value(std::is_signed_v<T> ? Value(static_cast<int64_t>(i))
                                  : Value(static_cast<uint64_t>(i))) {}
  Value(double d);
  Value(const char* s);
  Value(std::string s);
  Value(std::string_view s);
  Value(Array a);
  Value(Object o);
  static Value MakeArray() { return Value(Array{}); }
  static Value MakeObject() { return Value(Object{}); }

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::kNull; }
  bool is_bool() const { return type_ == Type::kBool; }
  bool is_number() const { return type_ == Type::kNumber; }
  // A number written without fraction or exponent that fits in int64.
  bool is_integer() const { return type_ == Type::kNumber && is_int_; }
  bool is_string() const { return type_ == Type::kString; }
  bool is_array() const { return type_ == Type::kArray; }
  bool is_object() const { return type_ == Type::kObject; }

  // Accessors return a default (false, 0, "", empty) when the type does not match; check the
  // type first where it matters. AsInt() of a non-integer number truncates toward zero
  // (saturating); AsDouble() of an integer converts it. The non-const AsArray()/AsObject()
  // (and operator[], Set, PushBack) replace a value of any other type with an empty container.
  bool AsBool() const;
  double AsDouble() const;
  int64_t AsInt() const;
  const std::string& AsString() const;
  const Array& AsArray() const;
  Array& AsArray();  // converts null to an empty array first
  const Object& AsObject() const;
  Object& AsObject();  // converts null to an empty object first

  // Object access. Find returns nullptr when absent or when this is not an object.
  const Value* Find(std::string_view key) const;
  Value* Find(std::string_view key);
  // Inserts null when absent; converts null to an object first.
  Value& operator[](std::string_view key);
  void Set(std::string key, Value v);  // replaces an existing key
  bool Erase(std::string_view key);
  // Array access.
  void PushBack(Value v);  // converts null to an array first
  size_t size() const;     // elements of an array or object, 0 otherwise

  // Compact serialisation (no spaces), strings escaped per RFC 8259 (non-ASCII UTF-8 kept as
  // is; '/' kept; \b \f \n \r \t short forms; other control characters as \u00XX). Objects in
  // insertion order. Integers print exactly; other numbers in the shortest form that parses
  // back to the same double, with ".0" appended when it would otherwise read as an integer
  // (2.0 -> "2.0"). NaN and infinities (not representable) print as null.
  std::string Dump() const;
  // Indented serialisation for humans (2 spaces).
  std::string DumpPretty() const;

  // Deep equality. Numbers compare by value (1 == 1.0); objects compare as key sets, ignoring
  // member order.
  friend bool operator==(const Value& a, const Value& b);

 private:
  Type type_ = Type::kNull;
  bool bool_ = false;
  bool is_int_ = false;
  int64_t int_ = 0;
  double double_ = 0;
  std::string string_;
  Array array_;
  Object object_;
};

// Parses one JSON text (surrounding whitespace allowed). Errors are kInvalidArgument with a
// message "line L, column C: what", e.g. "line 1, column 9: expected ',' or '}'" (1-based, columns
// in bytes). Nesting deeper than 512 levels is rejected. Duplicate object keys: the last one wins
// (at the first one's position). Strings must be valid UTF-8; \u escapes (surrogate pairs
// included) decode to UTF-8, lone surrogates are rejected. Integers without fraction/exponent
// that fit int64 stay exact (is_integer()); other numbers are doubles; numbers that overflow a
// double are rejected. Empty input and trailing non-whitespace are rejected.
Result<Value> Parse(std::string_view text);

// Escapes `s` as a JSON string literal including the quotes.
std::string Quote(std::string_view s);

}  // namespace rebootd::json
