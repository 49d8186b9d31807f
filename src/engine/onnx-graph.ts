/**
 * A small builder for ONNX graphs (opset 17), serialised with the `onnx-proto` protobuf classes.
 * Only what our exports need: float32 tensors, initialisers, nodes with int/float/ints attributes.
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

export type Dim = number | string;
export type AttrValue = number | number[] | string | { float: number };

export const ONNX_OPSET = 17;

export class OnnxGraphBuilder {
  private readonly nodes: InstanceType<typeof onnx.NodeProto>[] = [];
  private readonly initializers: InstanceType<typeof onnx.TensorProto>[] = [];
  private readonly inputs: InstanceType<typeof onnx.ValueInfoProto>[] = [];
  private readonly outputs: InstanceType<typeof onnx.ValueInfoProto>[] = [];
  private readonly names = new Set<string>();
  private counter = 0;

  /** A fresh value name with the given prefix. */
  name(prefix: string): string {
    let n = prefix;
    while (this.names.has(n)) n = `${prefix}_${++this.counter}`;
    this.names.add(n);
    return n;
  }

  private valueInfo(name: string, dims: Dim[]) {
    return onnx.ValueInfoProto.create({
      name,
      type: onnx.TypeProto.create({
        tensorType: onnx.TypeProto.Tensor.create({
          elemType: onnx.TensorProto.DataType.FLOAT,
          shape: onnx.TensorShapeProto.create({
            dim: dims.map((d) =>
              typeof d === 'number'
                ? onnx.TensorShapeProto.Dimension.create({ dimValue: d })
                : onnx.TensorShapeProto.Dimension.create({ dimParam: d }),
            ),
          }),
        }),
      }),
    });
  }

  input(name: string, dims: Dim[]): string {
    this.names.add(name);
    this.inputs.push(this.valueInfo(name, dims));
    return name;
  }

  output(name: string, dims: Dim[]): void {
    this.outputs.push(this.valueInfo(name, dims));
  }

  /** A float32 constant. */
  constant(prefix: string, data: Float32Array | number[], dims: number[]): string {
    const name = this.name(prefix);
    const values = data instanceof Float32Array ? data : Float32Array.from(data);
    this.initializers.push(
      onnx.TensorProto.create({
        name,
        dims,
        dataType: onnx.TensorProto.DataType.FLOAT,
        rawData: new Uint8Array(
          values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength),
        ),
      }),
    );
    return name;
  }

  /** An int64 constant (shapes, axes). */
  int64(prefix: string, values: number[]): string {
    const name = this.name(prefix);
    this.initializers.push(
      onnx.TensorProto.create({
        name,
        dims: [values.length],
        dataType: onnx.TensorProto.DataType.INT64,
        int64Data: values,
      }),
    );
    return name;
  }

  /** Adds a node; returns its output name. `output` names it explicitly (graph outputs). */
  node(
    opType: string,
    inputs: string[],
    attrs: Record<string, AttrValue> = {},
    output?: string,
  ): string {
    const out = output ?? this.name(opType.toLowerCase());
    if (output) this.names.add(output);
    const attribute = Object.entries(attrs).map(([name, v]) => {
      const A = onnx.AttributeProto.AttributeType;
      if (typeof v === 'string')
        return onnx.AttributeProto.create({ name, type: A.STRING, s: new TextEncoder().encode(v) });
      if (Array.isArray(v)) return onnx.AttributeProto.create({ name, type: A.INTS, ints: v });
      if (typeof v === 'object')
        return onnx.AttributeProto.create({ name, type: A.FLOAT, f: v.float });
      return onnx.AttributeProto.create({ name, type: A.INT, i: v });
    });
    this.nodes.push(
      onnx.NodeProto.create({ opType, input: [...inputs], output: [out], name: out, attribute }),
    );
    return out;
  }

  /** Serialises the model. */
  toBytes(docString = ''): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: 8,
      producerName: 'cctfer',
      docString,
      opsetImport: [onnx.OperatorSetIdProto.create({ domain: '', version: ONNX_OPSET })],
      graph: onnx.GraphProto.create({
        name: 'cctfer',
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      }),
    });
    return onnx.ModelProto.encode(model).finish();
  }
}
