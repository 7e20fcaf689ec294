// Runs nncw's QuantizeLinear/DequantizeLinear exports in ONNX Runtime (onnxruntime-node) and
// compares with nncw's outputs written by quant_model.
//
//     node ort_qdq.js DIR        (DIR as quant_model wrote it; onnxruntime-node on NODE_PATH)
//
// Each model runs twice: with graph optimisations disabled, where ONNX Runtime computes the
// QDQ graph in float like nncw (tolerance 1e-5 absolute + 1e-5 relative), and with all
// optimisations, where it fuses the pairs into integer kernels (QLinearConv, QGemm) that
// round intermediate values differently: there every element must stay within one level of
// the output quantizer (the widest output step, 3/255). Prints "N passed, N failed".
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');

function readShapes(dir) {
    const shapes = {};
    for (const line of fs.readFileSync(path.join(dir, 'shapes.txt'), 'utf8').split('\n')) {
        const f = line.trim().split(/\s+/);
        if (f[0]) shapes[f[0]] = f.slice(1).map(Number);
    }
    return shapes;
}

function readFloats(dir, file) {
    const b = fs.readFileSync(path.join(dir, file));
    return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
}

async function check(dir, shapes, model, expectFile, level, atol, rtol) {
    const session = await ort.InferenceSession.create(path.join(dir, model), {
        graphOptimizationLevel: level, executionProviders: ['cpu'] });
    const x = new ort.Tensor('float32', readFloats(dir, 'input.bin'), shapes['input.bin']);
    const out = await session.run({ [session.inputNames[0]]: x });
    const got = out[session.outputNames[0]].data;
    const want = readFloats(dir, expectFile);
    if (got.length !== want.length)
        return `${model} (${level}): ${got.length} outputs, expected ${want.length}`;
    let worst = 0, at = -1, maxdiff = 0;
    for (let i = 0; i < want.length; i++) {
        const diff = Math.abs(got[i] - want[i]);
        maxdiff = diff > maxdiff ? diff : maxdiff;
        const err = diff - (atol + rtol * Math.abs(want[i]));
        if (!(err <= worst)) { worst = err; at = i; }
    }
    const detail = at < 0 ? `largest difference ${maxdiff.toExponential(2)}`
                          : `element ${at}: ${got[at]} vs ${want[at]}`;
    console.log(`${at < 0 ? 'ok  ' : 'FAIL'} ${model} optimisation ${level}: ${want.length} ` +
                `values within ${atol.toExponential(2)} + ${rtol}*|y| (${detail})`);
    return at < 0 ? null : detail;
}

async function main() {
    const dir = process.argv[2];
    const shapes = readShapes(dir);
    const cases = [
        ['qdq.onnx', 'output.bin', 'disabled', 1e-5, 1e-5],
        ['qdq_narrow.onnx', 'output_narrow.bin', 'disabled', 1e-5, 1e-5],
        ['qdq.onnx', 'output.bin', 'all', 3 / 255 + 1e-5, 0],
        ['qdq_narrow.onnx', 'output_narrow.bin', 'all', 3 / 255 + 1e-5, 0],
    ];
    let passed = 0, failed = 0;
    for (const c of cases) {
        try {
            if ((await check(dir, shapes, ...c)) === null) passed++; else failed++;
        } catch (e) {
            console.log(`FAIL ${c[0]} optimisation ${c[2]}: ${e.message}`);
            failed++;
        }
    }
    console.log(`${passed} passed, ${failed} failed`);
    process.exit(failed ? 1 : 0);
}

main();
