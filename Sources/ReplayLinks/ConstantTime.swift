/// Compares two byte arrays in time that depends only on their lengths, never on their contents.
///
/// Every byte position up to the longer length is visited and folded into one accumulator; there is
/// no early return on the first difference. Arrays of different lengths are unequal (the missing
/// bytes are compared as zero so the loop still runs to the end).
public func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    var difference: UInt8 = a.count == b.count ? 0 : 1
    for index in 0..<max(a.count, b.count) {
        let x = index < a.count ? a[index] : 0
        let y = index < b.count ? b[index] : 0
        difference |= x ^ y
    }
    return difference == 0
}
