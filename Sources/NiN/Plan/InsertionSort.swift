// A stable insertion sort for the planner's and the reader's short lists (tens of elements):
// the same order as the standard library's stable sort, in a fraction of its code (which is
// several kilobytes per element type on a microcontroller).

/// Sorts `elements` in place by `areInIncreasingOrder`, keeping equal elements in their order.
func insertionSort<T>(_ elements: inout [T], by areInIncreasingOrder: (T, T) -> Bool) {
    guard elements.count > 1 else { return }
    for i in 1..<elements.count {
        let item = elements[i]
        var j = i
        while j > 0 && areInIncreasingOrder(item, elements[j - 1]) {
            elements[j] = elements[j - 1]
            j -= 1
        }
        elements[j] = item
    }
}
