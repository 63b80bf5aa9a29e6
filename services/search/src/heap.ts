/**
 * The first `k` items of `items` in `order`, in order: one pass with a bounded
 * max-heap (O(n log k)), so a page of a million matches needs no full sort.
 */
export function topK<T>(items: readonly T[], k: number, order: (a: T, b: T) => number): T[] {
  if (k <= 0) return [];
  if (items.length <= k) return [...items].sort(order);
  // heap[0] is the worst of the best k so far.
  const heap: T[] = [];
  const worse = (a: T, b: T) => order(a, b) > 0;
  const up = (i: number) => {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!worse(heap[i] as T, heap[parent] as T)) break;
      [heap[i], heap[parent]] = [heap[parent] as T, heap[i] as T];
      i = parent;
    }
  };
  const down = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let worst = i;
      if (l < heap.length && worse(heap[l] as T, heap[worst] as T)) worst = l;
      if (r < heap.length && worse(heap[r] as T, heap[worst] as T)) worst = r;
      if (worst === i) return;
      [heap[i], heap[worst]] = [heap[worst] as T, heap[i] as T];
      i = worst;
    }
  };
  for (const item of items) {
    if (heap.length < k) {
      heap.push(item);
      up(heap.length - 1);
    } else if (order(item, heap[0] as T) < 0) {
      heap[0] = item;
      down(0);
    }
  }
  return heap.sort(order);
}
