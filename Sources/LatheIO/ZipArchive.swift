import CZlib
import Foundation

/// A small zip reader and writer, enough for `.npz` files: members stored or deflated, found
/// through the central directory, each checked against its CRC-32. Encrypted members, archives
/// split over several disks and zip64 (archives or members of 4 GiB and more, or over 65535
/// members) are refused by name.
///
/// Layout (PKWARE APPNOTE): local headers each followed by their data, then the central
/// directory (one entry per member, pointing back at its local header), then the end record
/// (the last 22 bytes, plus an optional comment) pointing at the central directory.
public enum ZipArchive {
  public struct Member: Sendable, Equatable {
    public var name: String
    public var bytes: [UInt8]
    public init(name: String, bytes: [UInt8]) {
      self.name = name
      self.bytes = bytes
    }
  }

  static let endSignature: UInt32 = 0x0605_4b50
  static let centralSignature: UInt32 = 0x0201_4b50
  static let localSignature: UInt32 = 0x0403_4b50
  static let zip64EndLocatorSignature: UInt32 = 0x0706_4b50

  /// True when `bytes` start like a zip file (a local header, or the end record of an empty one).
  public static func isZip(_ bytes: [UInt8]) -> Bool {
    bytes.count >= 4 && [localSignature, endSignature].contains(u32(bytes, 0))
  }

  /// Every member of the archive (directories skipped), in central-directory order.
  public static func decode(_ bytes: [UInt8], file: String) throws -> [Member] {
    func invalid(_ field: String, _ expected: String, _ got: String) -> LatheIOError {
      .invalid(file: file, field: field, expected: expected, got: got)
    }
    // The end record is the last 22 bytes unless a comment (at most 65535 bytes) follows it.
    guard bytes.count >= 22 else { throw invalid("zip end record", "at least 22 bytes", "a \(bytes.count)-byte file") }
    var end = bytes.count - 22
    let lowest = max(0, bytes.count - 22 - 65535)
    while end >= lowest, !(u32(bytes, end) == endSignature && end + 22 + Int(u16(bytes, end + 20)) == bytes.count) {
      end -= 1
    }
    guard end >= lowest else {
      throw invalid("zip end record", "the signature 50 4B 05 06 near the end of the file", "none")
    }
    let disk = u16(bytes, end + 4)
    let directoryDisk = u16(bytes, end + 6)
    let entriesHere = u16(bytes, end + 8)
    let entries = u16(bytes, end + 10)
    let directorySize = Int(u32(bytes, end + 12))
    let directoryOffset = Int(u32(bytes, end + 16))
    if entries == 0xFFFF || directorySize == 0xFFFF_FFFF || directoryOffset == 0xFFFF_FFFF
      || (end >= 20 && u32(bytes, end - 20) == zip64EndLocatorSignature)
    {
      throw LatheIOError.unsupported(
        file: file, field: "zip end record", value: "a zip64 archive", supported: ["zip archives under 4 GiB"])
    }
    guard disk == 0, directoryDisk == 0, entriesHere == entries else {
      throw LatheIOError.unsupported(
        file: file, field: "zip end record", value: "an archive split over several disks",
        supported: ["single-file archives"])
    }
    guard directoryOffset <= end, directorySize <= end - directoryOffset else {
      throw invalid(
        "zip central directory (offset \(directoryOffset), \(directorySize) bytes)",
        "to lie before the end record at byte \(end)", "a directory past it")
    }

    var members: [Member] = []
    var names = Set<String>()
    var at = directoryOffset
    let directoryEnd = directoryOffset + directorySize
    for index in 0..<Int(entries) {
      let field = "zip central directory entry \(index) (byte \(at))"
      guard at + 46 <= directoryEnd, u32(bytes, at) == centralSignature else {
        throw invalid(field, "a 46-byte entry starting 50 4B 01 02 inside the directory", "something else")
      }
      let flags = u16(bytes, at + 8)
      let method = u16(bytes, at + 10)
      let crc = u32(bytes, at + 16)
      let compressedSize = Int(u32(bytes, at + 20))
      let size = Int(u32(bytes, at + 24))
      let nameLength = Int(u16(bytes, at + 28))
      let extraLength = Int(u16(bytes, at + 30))
      let commentLength = Int(u16(bytes, at + 32))
      let localOffset = Int(u32(bytes, at + 42))
      let next = at + 46 + nameLength + extraLength + commentLength
      guard next <= directoryEnd else {
        throw invalid(field, "its name and extra fields inside the directory", "an entry running past it")
      }
      let nameBytes = Array(bytes[(at + 46)..<(at + 46 + nameLength)])
      guard let name = String(validating: nameBytes, as: UTF8.self) else {
        throw invalid(field, "a UTF-8 member name", "bytes that are not UTF-8")
      }
      at = next
      if name.hasSuffix("/") { continue }
      // Names come from the file: shown escaped, so a line break cannot split the message.
      let shown = OneLine.escaping(name)
      let memberField = "zip member \"\(shown)\""
      guard flags & 1 == 0 else {
        throw LatheIOError.unsupported(
          file: file, field: memberField, value: "an encrypted member", supported: ["unencrypted members"])
      }
      guard compressedSize != 0xFFFF_FFFF, size != 0xFFFF_FFFF, localOffset != 0xFFFF_FFFF else {
        throw LatheIOError.unsupported(
          file: file, field: memberField, value: "a zip64 member", supported: ["members under 4 GiB"])
      }
      guard names.insert(name).inserted else {
        throw invalid(memberField, "a name used once", "a second member of that name")
      }

      // The local header repeats the name; its own extra field may differ from the central one.
      guard localOffset <= directoryOffset - 30, u32(bytes, localOffset) == localSignature else {
        throw invalid(
          "\(memberField) local header (byte \(localOffset))", "a header starting 50 4B 03 04 before the directory",
          localOffset > directoryOffset - 30 ? "an offset past it" : "something else")
      }
      let dataStart = localOffset + 30 + Int(u16(bytes, localOffset + 26)) + Int(u16(bytes, localOffset + 28))
      guard dataStart <= directoryOffset, compressedSize <= directoryOffset - dataStart else {
        throw invalid(
          "\(memberField) data (byte \(dataStart), \(compressedSize) bytes)", "to end before the central directory",
          "data running past it")
      }
      let stored = Array(bytes[dataStart..<(dataStart + compressedSize)])
      let data: [UInt8]
      switch method {
      case 0:
        guard compressedSize == size else {
          throw invalid(memberField, "equal stored and original sizes", "\(compressedSize) and \(size)")
        }
        data = stored
      case 8:
        data = try Gzip.inflateRaw(stored, limit: size, file: "\(file) (member \(shown))")
        guard data.count == size else {
          throw invalid(memberField, "\(size) bytes once inflated, as the directory says", "\(data.count)")
        }
      default:
        throw LatheIOError.unsupported(
          file: file, field: "\(memberField) compression method", value: "\(method)",
          supported: ["0 (stored)", "8 (deflated)"])
      }
      let actual = crc32(data)
      guard actual == crc else {
        throw invalid(
          "\(memberField) CRC-32", String(format: "%08X, as the directory says", crc), String(format: "%08X", actual))
      }
      members.append(Member(name: name, bytes: data))
    }
    return members
  }

  /// A zip archive of `members`, in that order, each deflated when `compressed` (and stored
  /// otherwise), with a fixed timestamp (1980-01-01) so the same members give the same bytes.
  public static func encode(_ members: [Member], compressed: Bool) throws -> [UInt8] {
    guard members.count < 0xFFFF else {
      throw LatheIOError.unencodable(what: "a zip archive", reason: "\(members.count) members need zip64")
    }
    var output: [UInt8] = []
    var directory: [UInt8] = []
    for member in members {
      let name = Array(member.name.utf8)
      let data = compressed ? Gzip.deflateRaw(member.bytes) : member.bytes
      guard name.count <= 0xFFFF, member.bytes.count < 0xFFFF_FFFF, output.count < 0xFFFF_FFFF - data.count else {
        throw LatheIOError.unencodable(
          what: "zip member \"\(OneLine.escaping(member.name))\"", reason: "too large without zip64")
      }
      // version 2.0, flag bit 11 (UTF-8 names), method, DOS time 0 and date 1980-01-01, CRC, sizes.
      var common = le16(20) + le16(1 << 11) + le16(compressed ? 8 : 0) + le16(0) + le16(0x21)
      common += le32(crc32(member.bytes)) + le32(UInt32(data.count)) + le32(UInt32(member.bytes.count))
      common += le16(UInt16(name.count)) + le16(0)
      let localOffset = UInt32(output.count)
      output += le32(localSignature) + common + name + data
      // made by 2.0 (MS-DOS), then the common fields, no comment, disk 0, no attributes.
      directory += le32(centralSignature) + le16(20) + common + le16(0) + le16(0) + le16(0) + le32(0)
      directory += le32(localOffset) + name
    }
    let directoryOffset = UInt32(output.count)
    output += directory
    let count = le16(UInt16(members.count))
    output += le32(endSignature) + le16(0) + le16(0) + count + count
    output += le32(UInt32(directory.count)) + le32(directoryOffset) + le16(0)
    return output
  }

  /// zlib's CRC-32, fed in 1 GiB pieces since zlib counts in 32 bits.
  static func crc32(_ bytes: [UInt8]) -> UInt32 {
    bytes.withUnsafeBufferPointer { buffer in
      var crc = CZlib.crc32(0, nil, 0)
      var start = 0
      while start < buffer.count {
        let length = min(buffer.count - start, 1 << 30)
        crc = CZlib.crc32(crc, buffer.baseAddress! + start, uInt(length))
        start += length
      }
      return UInt32(crc)
    }
  }

  private static func u16(_ bytes: [UInt8], _ at: Int) -> UInt16 {
    at >= 0 && at + 2 <= bytes.count ? UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8 : 0
  }

  private static func u32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
    at >= 0 && at + 4 <= bytes.count ? UInt32(u16(bytes, at)) | UInt32(u16(bytes, at + 2)) << 16 : 0
  }

  private static func le16(_ value: UInt16) -> [UInt8] { [UInt8(value & 0xFF), UInt8(value >> 8)] }
  private static func le32(_ value: UInt32) -> [UInt8] { le16(UInt16(value & 0xFFFF)) + le16(UInt16(value >> 16)) }
}
