/// A float32 image held in memory: `channels` planes of `width * height` pixels,
/// each plane row-major (row 0 first), planes stored one after another.
///
/// Pixel values are linear data numbers after BSCALE/BZERO; no stretch is ever applied.
/// Kernels work on row pointers (`withUnsafeBufferPointer`) inside this module; the subscript
/// is for tests and cold code only.
public struct Image: Sendable, Equatable {
    /// Width in pixels (FITS NAXIS1).
    public let width: Int
    /// Height in pixels (FITS NAXIS2).
    public let height: Int
    /// Number of planes: 1 for mono, 3 for RGB.
    public let channels: Int
    /// Planar pixel storage, `channels * width * height` values.
    public var pixels: [Float]

    /// An image filled with `value`.
    public init(width: Int, height: Int, channels: Int = 1, fill value: Float = 0) {
        precondition(width > 0 && height > 0 && channels > 0, "image dimensions must be positive")
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = [Float](repeating: value, count: width * height * channels)
    }

    /// An image over existing planar pixels; `pixels.count` must equal `width * height * channels`.
    public init(width: Int, height: Int, channels: Int = 1, pixels: [Float]) {
        precondition(pixels.count == width * height * channels, "pixel count does not match dimensions")
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    /// Pixels in one plane.
    @inlinable public var planeSize: Int { width * height }

    /// Value at column `x`, row `y`, plane `c` (cold paths and tests).
    @inlinable public subscript(x: Int, y: Int, c: Int = 0) -> Float {
        get { pixels[c * width * height + y * width + x] }
        set { pixels[c * width * height + y * width + x] = newValue }
    }

    /// A copy of plane `c` as a mono image.
    public func plane(_ c: Int) -> Image {
        let n = planeSize
        return Image(width: width, height: height, channels: 1, pixels: Array(pixels[(c * n)..<((c + 1) * n)]))
    }

    /// Stacks mono images of equal size into one multi-plane image.
    public static func merging(planes: [Image]) -> Image {
        precondition(!planes.isEmpty && planes.allSatisfy { $0.channels == 1 && $0.width == planes[0].width && $0.height == planes[0].height })
        return Image(width: planes[0].width, height: planes[0].height, channels: planes.count,
                     pixels: planes.flatMap { $0.pixels })
    }
}
