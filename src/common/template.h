#pragma once
// Tiny {{NAME}} substitution for the config files the stack renders (server.properties,
// ClickHouse XML, ...). A placeholder without a value is an error, so a typo never ships.
#include <filesystem>
#include <map>
#include <string>

#include "common/sha256.h"  // Sha256Hex, for the callers that render password hashes

namespace clickflow {

std::string RenderTemplate(const std::string& text, const std::map<std::string, std::string>& values,
                           const std::string& name_for_errors);

// Reads `source`, renders it, writes `dest` with `mode` (0600 for files that hold secrets).
void RenderTemplateFile(const std::filesystem::path& source, const std::filesystem::path& dest,
                        const std::map<std::string, std::string>& values,
                        std::filesystem::perms mode = std::filesystem::perms(0644));

// Writes a file atomically (temp + rename) with the given mode.
void WriteFile(const std::filesystem::path& dest, const std::string& content,
               std::filesystem::perms mode = std::filesystem::perms(0644));

std::string ReadFile(const std::filesystem::path& path);

// Escapes &, <, >, " and ' for XML text and attributes.
std::string XmlEscape(const std::string& text);

// `bytes` random bytes from /dev/urandom as lower-case hex (secrets, cluster ids).
std::string RandomHex(int bytes);

}  // namespace clickflow
