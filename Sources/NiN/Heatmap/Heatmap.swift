// Class heatmaps, the interpretability claim of Network in Network: the last mlpconv block
// emits one confidence map per class, so a class's map shows where the network saw it.
// A heatmap is the input image in gray (prepared exactly as docs/PREPROCESSING.md says, at an
// integer multiple of the model's input size, at least 256 pixels on the short side), overlaid
// with one class's confidence map, upsampled bilinearly (half-pixel centres) and normalized to
// its own minimum and maximum, in the viridis colormap at 60% opacity, under a black strip
// that names the class and its probability. Rendered after a run; allocates its output.

/// Renders the heatmap of one image of a run.
public enum HeatmapRenderer {
    /// Opacity of the colormap over the gray image, in 256ths.
    static let opacity = 154
    /// Pixels between the strip's text and its edges.
    static let margin = 2

    /// The heatmap of `image`, whose confidence map for the class is `map` (`mapHeight` x
    /// `mapWidth` floats), for a model whose input is `input`; `caption` goes in the strip.
    static func render(image: PixelView, input: TensorShape, map: [Float], mapHeight: Int, mapWidth: Int,
                       caption: String) -> Image {
        let scale = max(1, (256 + min(input.height, input.width) - 1) / min(input.height, input.width))
        let width = input.width * scale, height = input.height * scale
        let strip = HeatmapTables.glyphHeight + 2 * margin
        var pixels = [UInt8](repeating: 0, count: width * (height + strip) * 3)

        // The image as the model sees it, in gray, at the rendering size.
        var gray = [UInt8](repeating: 0, count: width * height)
        gray.withUnsafeMutableBufferPointer { prepareImage(image, shape: TensorShape(height: height, width: width, channels: 1), into: $0.baseAddress!) }

        // The map, upsampled and normalized to its range, through viridis, over the gray image.
        let low = map.min() ?? 0, high = map.max() ?? 0
        let range = high - low
        let columns = (0..<width).map { MapTap(output: $0, outputSize: width, inputSize: mapWidth) }
        for y in 0..<height {
            let row = MapTap(output: y, outputSize: height, inputSize: mapHeight)
            for x in 0..<width {
                let column = columns[x]
                let top = map[row.first * mapWidth + column.first] * (1 - column.weight)
                    + map[row.first * mapWidth + column.second] * column.weight
                let bottom = map[row.second * mapWidth + column.first] * (1 - column.weight)
                    + map[row.second * mapWidth + column.second] * column.weight
                let value = top * (1 - row.weight) + bottom * row.weight
                let level = range > 0 ? Int(((value - low) / range * 255).rounded()) : 0
                let color = 3 * min(max(level, 0), 255)
                let g = Int(gray[y * width + x])
                let out = ((y + strip) * width + x) * 3
                for c in 0..<3 {
                    let blended = g * (256 - opacity) + Int(HeatmapTables.viridis[color + c]) * opacity + 128
                    pixels[out + c] = UInt8(blended >> 8)
                }
            }
        }
        drawText(caption, into: &pixels, width: width, x: margin, y: margin)
        // The sizes are valid by construction (width and height are at least 256).
        return try! Image(width: width, height: height + strip, channels: 3, pixels: pixels)
    }

    /// Draws `text` (printable ASCII; others as '?') in white, clipped at the right edge.
    private static func drawText(_ text: String, into pixels: inout [UInt8], width: Int, x: Int, y: Int) {
        let glyphWidth = HeatmapTables.glyphWidth, glyphHeight = HeatmapTables.glyphHeight
        for (i, scalar) in text.unicodeScalars.enumerated() {
            let code = (32...126).contains(scalar.value) ? Int(scalar.value) : Int(UInt8(ascii: "?"))
            let left = x + i * glyphWidth
            guard left + glyphWidth <= width else { break }
            for row in 0..<glyphHeight {
                let bits = HeatmapTables.font[(code - 32) * glyphHeight + row]
                for column in 0..<glyphWidth where bits & (1 << (glyphWidth - 1 - column)) != 0 {
                    let out = ((y + row) * width + left + column) * 3
                    pixels[out] = 255
                    pixels[out + 1] = 255
                    pixels[out + 2] = 255
                }
            }
        }
    }
}

/// Where output pixel `output` of a bilinear upsampling with half-pixel centres reads: input
/// pixels `first` and `second` (clamped at the edges), mixed by `weight`.
private struct MapTap {
    let first: Int
    let second: Int
    let weight: Float

    init(output: Int, outputSize: Int, inputSize: Int) {
        let source = max((Float(output) + 0.5) * Float(inputSize) / Float(outputSize) - 0.5, 0)
        let floor = min(Int(source), inputSize - 1)
        first = floor
        second = min(floor + 1, inputSize - 1)
        weight = source - Float(floor)
    }
}

extension NiNContext {
    /// The heatmap of image `index` of the last run, which was `image`: class `classIndex`'s
    /// confidence map (the most probable class when nil) over the image, captioned with the
    /// class's label and probability. RGB, at least 256 pixels on the short side.
    package func heatmap(_ index: Int, classIndex: Int?, image: PixelView) throws(NiNError) -> Image {
        let classes = model.graph.classCount
        let chosen: Int
        if let classIndex {
            guard (0..<classes).contains(classIndex) else {
                throw .invalid("class \(classIndex) is outside 0..<\(classes)")
            }
            chosen = classIndex
        } else {
            chosen = try topK(index, k: 1)[0].classIndex
        }
        let probability = try probabilities(index)[chosen]
        let shape = model.graph.mapShape
        let plane = shape.height * shape.width
        var maps = [Float](repeating: 0, count: shape.elementCount)
        try maps.withUnsafeMutableBufferPointer { (buffer) throws(NiNError) in try copyConfidenceMaps(index, into: buffer.baseAddress!) }
        let caption = "\(model.graph.labels[chosen]) \(captionPercent(probability))"
        return HeatmapRenderer.render(image: image, input: model.graph.input, map: Array(maps[(chosen * plane)..<((chosen + 1) * plane)]),
                                      mapHeight: shape.height, mapWidth: shape.width, caption: caption)
    }

    /// As above, for an `Image`.
    public func heatmap(_ index: Int, classIndex: Int?, image: Image) throws(NiNError) -> Image {
        try image.pixels.withUnsafeBufferPointer { (pixels) throws(NiNError) -> Image in
            try heatmap(index, classIndex: classIndex, image: PixelView(base: pixels.baseAddress!, width: image.width, height: image.height,
                                                                        channels: image.channels, stride: image.stride))
        }
    }
}

/// A probability as a percentage with one decimal ("98.8%").
private func captionPercent(_ p: Float) -> String {
    let tenths = Int((Double(p) * 1000).rounded())
    return "\(tenths / 10).\(tenths % 10)%"
}
