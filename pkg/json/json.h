// SPDX-License-Identifier: Apache-2.0
// A small JSON document model (RFC 8259): parse, build, inspect, serialise. Objects keep their
// insertion order; integers up to 64 bits are kept exactly. Values are plain data: not
// thread-safe for concurrent mutation, safe for concurrent reads.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
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
  Value(uint64_t i);
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
  // type first where it matters.
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
  // is; control characters as \u00XX). Integers print exactly; other numbers with up to 17
  // significant digits.
  std::string Dump() const;
  // Indented serialisation for humans (2 spaces).
  std::string DumpPretty() const;

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
// message "line L, column C: what", e.g. "line 1, column 9: expected ',' or '}'". Nesting deeper
// than 512 levels is rejected. Duplicate object keys: the last one wins.
Result<Value> Parse(std::string_view text);

// Escapes `s` as a JSON string literal including the quotes.
std::string Quote(std::string_view s);

}  // namespace rebootd::json
