#include "common/template.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "common/error.h"

namespace clickflow {

namespace fs = std::filesystem;

std::string RenderTemplate(const std::string& text, const std::map<std::string, std::string>& values,
                           const std::string& name_for_errors) {
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  while (true) {
    size_t open = text.find("{{", pos);
    if (open == std::string::npos) break;
    size_t close = text.find("}}", open + 2);
    if (close == std::string::npos) throw Error(name_for_errors + ": unterminated {{ placeholder");
    out.append(text, pos, open - pos);
    const std::string name = text.substr(open + 2, close - open - 2);
    auto it = values.find(name);
    if (it == values.end()) throw Error(name_for_errors + ": no value for placeholder {{" + name + "}}");
    out += it->second;
    pos = close + 2;
  }
  out.append(text, pos, std::string::npos);
  return out;
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot read " + path.string());
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

void WriteFile(const fs::path& dest, const std::string& content, fs::perms mode) {
  fs::create_directories(dest.parent_path());
  const fs::path tmp = dest.string() + ".tmp";
  // Create with the final mode so a secret is never readable, even for an instant.
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, static_cast<mode_t>(mode));
  if (fd < 0) throw Error("cannot write " + tmp.string());
  ::fchmod(fd, static_cast<mode_t>(mode));
  size_t written = 0;
  while (written < content.size()) {
    ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n <= 0) {
      ::close(fd);
      throw Error("cannot write " + tmp.string());
    }
    written += static_cast<size_t>(n);
  }
  ::close(fd);
  fs::rename(tmp, dest);
}

void RenderTemplateFile(const fs::path& source, const fs::path& dest, const std::map<std::string, std::string>& values,
                        fs::perms mode) {
  WriteFile(dest, RenderTemplate(ReadFile(source), values, source.string()), mode);
}

std::string XmlEscape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

static std::string Hex(const unsigned char* data, size_t size) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < size; ++i) {
    out += kDigits[data[i] >> 4];
    out += kDigits[data[i] & 0xF];
  }
  return out;
}

std::string RandomHex(int bytes) {
  std::string raw(static_cast<size_t>(bytes), '\0');
  std::ifstream urandom("/dev/urandom", std::ios::binary);
  if (!urandom.read(raw.data(), bytes)) throw Error("cannot read /dev/urandom");
  return Hex(reinterpret_cast<const unsigned char*>(raw.data()), raw.size());
}

}  // namespace clickflow
