// demo.js - the demo page's logic (index.html): decodes the chosen or dropped image in the
// browser, sends its pixels to the worker (worker.js, which runs nin.wasm), and shows the top 5,
// the heatmap and the time per inference.
const examples = ['test_00000_ankle_boot', 'test_00001_pullover', 'test_00002_trouser', 'test_00004_shirt',
  'test_00006_coat', 'test_00008_sandal', 'test_00009_sneaker', 'test_00013_dress', 'test_00018_bag',
  'test_00019_t_shirt_top'];  // examples/images/*.png
const $ = (id) => document.getElementById(id);
const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
let pixels = null;

const status = (text, error = false) => { $('status').textContent = text; $('status').className = error ? 'error' : ''; };

for (const name of examples) $('example').add(new Option(name.replace(/^test_\d+_/, '').replaceAll('_', ' '), `../examples/images/${name}.png`));

worker.onmessage = ({ data: message }) => {
  if (message.type === 'loaded') {
    $('cls').replaceChildren(new Option('most probable', ''), ...message.labels.map((label, i) => new Option(label, String(i))));
    status(`Model ready: ${message.inputShape.width}x${message.inputShape.height}, kernels ${message.kernels}.`);
    if (pixels) classify();
  } else if (message.type === 'result') {
    $('top').replaceChildren(...message.top.map(({ label, probability }) => {
      const row = document.createElement('div');
      row.className = 'bar';
      row.innerHTML = '<span class="label"></span><span class="track"><span class="fill"></span></span><span class="p"></span>';
      row.querySelector('.label').textContent = label;
      row.querySelector('.fill').style.width = `${(100 * probability).toFixed(1)}%`;
      row.querySelector('.p').textContent = `${(100 * probability).toFixed(2)}%`;
      row.setAttribute('aria-label', `${label}: ${(100 * probability).toFixed(2)} percent`);
      return row;
    }));
    $('time').textContent = `${message.milliseconds.toFixed(1)} ms per inference`;
    const { data, width, height } = message.heatmap;
    const canvas = $('heatmap');
    canvas.width = width;
    canvas.height = height;
    canvas.getContext('2d').putImageData(new ImageData(data, width, height), 0, 0);
    status('Done.');
  } else {
    status(`Error: ${message.message}${message.status ? ` (${message.status})` : ''}`, true);
  }
};

function classify() {
  if (!pixels) return;
  status('Classifying…');
  worker.postMessage({ type: 'classify', pixels, cls: $('cls').value === '' ? null : Number($('cls').value) });
}

async function show(blob) {
  try {
    const bitmap = await createImageBitmap(blob);
    const canvas = $('input');
    canvas.width = bitmap.width;
    canvas.height = bitmap.height;
    const context = canvas.getContext('2d');
    context.drawImage(bitmap, 0, 0);
    const image = context.getImageData(0, 0, bitmap.width, bitmap.height);
    pixels = { data: image.data, width: image.width, height: image.height, channels: 4 };
    classify();
  } catch (error) {
    status(`Cannot read that image: ${error.message}`, true);
  }
}

$('model').onchange = () => { status('Loading the model…'); worker.postMessage({ type: 'load', model: new URL($('model').value, location.href).href }); };
$('example').onchange = async () => { if ($('example').value) show(await (await fetch($('example').value)).blob()); };
$('file').onchange = () => { if ($('file').files[0]) show($('file').files[0]); };
$('cls').onchange = classify;
const drop = $('drop');
drop.ondragover = (event) => { event.preventDefault(); drop.classList.add('over'); };
drop.ondragleave = () => drop.classList.remove('over');
drop.ondrop = (event) => { event.preventDefault(); drop.classList.remove('over'); if (event.dataTransfer.files[0]) show(event.dataTransfer.files[0]); };
drop.onkeydown = (event) => { if (event.key === 'Enter' || event.key === ' ') $('file').click(); };
$('model').onchange();
