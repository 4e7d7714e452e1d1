// The shipped default model and where it is looked for: one list, used by nin-infer, the C API
// (nin_default_model_path) and so by Python. The places are relative to the binary the code
// runs from (the nin-infer executable, or libnin.so), so a checkout, an install and a Python
// wheel each find their own copy:
//   1. $NIN_MODEL, when set (the only candidate then);
//   2. <dir>/models/NAME             a Python wheel: nin/libnin.so beside nin/models/;
//   3. <dir>/../share/nin/models/NAME an install: <prefix>/bin/nin-infer or <prefix>/lib/libnin.so;
//   4. <dir>/../../../models/NAME     a checkout: .build/<triple>/release/<binary>;
//   5. models/NAME                    of the working directory.
// <dir> is the folder of the binary's resolved path.

import NiNPlatform

/// Finding the shipped default model.
public enum DefaultModel {
    /// The default model's file name.
    public static let fileName = "fashion_classic.nin"
    /// The environment variable that names a default model explicitly.
    public static let environmentVariable = "NIN_MODEL"

    /// The places looked at, in order, for code running from the binary at `binary` (nil when
    /// unknown: only the working directory's models/ then). `$NIN_MODEL`, when set, is the
    /// only place.
    public static func candidates(binary: FilePath?) -> [FilePath] {
        if let explicit = Platform.environment(environmentVariable), explicit.pointee != 0 { return [FilePath(cString: explicit)] }
        var found: [FilePath] = []
        if let binary, let slash = binary.bytes.lastIndex(of: UInt8(ascii: "/")) {
            let dir = Array(binary.bytes[..<slash])
            for relative in ["/models/", "/../share/nin/models/", "/../../../models/"] {
                found.append(FilePath(bytes: dir + Array((relative + fileName).utf8)))
            }
        }
        found.append(FilePath("models/" + fileName))
        return found
    }

    /// The first candidate that is a readable file (or `$NIN_MODEL` as given), or `.io`
    /// naming every place looked at.
    public static func locate(binary: FilePath?) throws(NiNError) -> FilePath {
        let places = candidates(binary: binary)
        if Platform.environment(environmentVariable) != nil, let explicit = places.first { return explicit }
        for place in places where place.withCString(Platform.isReadable) { return place }
        let looked = places.map { $0.description }.joined(separator: ", ")
        throw NiNError(.io, "no default model found (looked at $\(environmentVariable) (unset), \(looked))")
    }
}
