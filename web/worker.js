// worker.js - the demo page's Web Worker (index.html, demo.js): it owns the nin model, so
// inference never blocks the page. Messages in: {type: 'load', model} (a URL) and
// {type: 'classify', pixels: {data, width, height, channels}, cls}; out: {type: 'loaded',
// labels, inputShape, kernels}, {type: 'result', top, heatmap, milliseconds}, or {type: 'error',
// message, status}.
import { loadModel } from './nin.js';

let model = null;

self.onmessage = async ({ data: message }) => {
  try {
    if (message.type === 'load') {
      model?.dispose();
      model = null;
      model = await loadModel(new URL(message.model, self.location.href));
      self.postMessage({ type: 'loaded', labels: model.labels, inputShape: model.inputShape, kernels: model.kernels });
    } else if (message.type === 'classify') {
      if (!model) throw new Error('no model loaded yet');
      const start = performance.now();
      const top = model.classify(message.pixels, { top: 5 });
      const milliseconds = performance.now() - start;
      const heatmap = model.heatmap(message.pixels, message.cls === null ? {} : { cls: message.cls });
      self.postMessage({ type: 'result', top, heatmap, milliseconds });
    }
  } catch (error) {
    self.postMessage({ type: 'error', message: error.message, status: error.statusName ?? null });
  }
};
