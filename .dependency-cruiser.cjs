// Layers of lib/, in the order a call travels; imports only point down (`npm run lint:layers`):
//
//   cli, testing           commands and test helpers, on top of everything they use
//   client                 BlazeClient, OipClient: core, observability and protocols/shared only
//   runtimes               onnx/: a plugin beside the server (core, observability, server's services)
//   server                 the composition root: BlazeRpcServer, BlazeRpcModule, health, reflection
//   transport              grpc-js: bind, mount, call tracking, flow control, drain
//   protocols              shared/ codec helpers; blazerpc/ and oip/ decode and encode
//   pipeline               validate -> Nest enhancers -> batch -> handler
//   observability          metrics and traces (beside the stack: core only)
//   core                   what a model is: decorators, discovery, schema, registry, tensors, options, errors
//
// Type-only imports count as much as any other (tsPreCompilationDeps).

/** A rule that `layer` imports nothing under lib/ outside `allowed` (folders under lib/). */
function onlyImports(layer, allowed, comment) {
  return {
    name: `${layer.replace(/\//g, '-')}-imports-only-below`,
    comment,
    severity: 'error',
    from: { path: `^lib/${layer}/` },
    to: { path: '^lib/', pathNot: `^lib/(${[layer, ...allowed].join('|')})/` },
  };
}

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No import cycle, through type-only imports either.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    onlyImports('core', [], 'core is what a model is: it knows no pipeline, protocol, transport or server.'),
    onlyImports(
      'observability',
      ['core'],
      'Metrics and traces sit beside the stack: every layer may use them, they use only core.',
    ),
    onlyImports('pipeline', ['core', 'observability'], 'The pipeline knows no wire format, protocol or transport.'),
    onlyImports(
      'protocols/shared',
      ['core', 'observability', 'pipeline'],
      "Shared codec helpers never import a protocol's own folder.",
    ),
    onlyImports(
      'protocols/blazerpc',
      ['core', 'observability', 'pipeline', 'protocols/shared'],
      'A protocol decodes and encodes; it knows no other protocol nor the transport.',
    ),
    onlyImports(
      'protocols/oip',
      ['core', 'observability', 'pipeline', 'protocols/shared'],
      'A protocol decodes and encodes; it knows no other protocol nor the transport.',
    ),
    onlyImports(
      'transport',
      ['core', 'observability', 'pipeline', 'protocols/shared'],
      'The transport binds routes to grpc-js: it knows routes, not the protocols behind them.',
    ),
    onlyImports(
      'server',
      ['core', 'observability', 'pipeline', 'protocols', 'transport'],
      'The composition root; nothing below imports it.',
    ),
    onlyImports(
      'runtimes',
      ['core', 'observability', 'server'],
      "A runtime registers models through the server's services, not its internals.",
    ),
    onlyImports('client', ['core', 'observability', 'protocols/shared'], 'The client entry pulls in no server code.'),
    onlyImports(
      'cli',
      ['core', 'observability', 'protocols/shared', 'client'],
      'The command line talks to servers as a client.',
    ),
    onlyImports(
      'testing',
      ['core', 'observability', 'server', 'client'],
      'Test helpers start a server and talk to it as a client.',
    ),
    {
      name: 'client-reaches-no-server-code',
      comment:
        'Not even through another module: the client entry must load without server, transport, pipeline or runtime code.',
      severity: 'error',
      from: { path: '^lib/client/' },
      to: { path: '^lib/(server|transport|pipeline|runtimes|protocols/(blazerpc|oip))/', reachable: true },
    },
    {
      name: 'main-entry-leaves-other-entries-alone',
      comment: 'nestjs-blazerpc/onnx, /testing and the CLI are entry points of their own.',
      severity: 'error',
      from: { path: '^lib/index\\.ts$' },
      to: { path: '^lib/(runtimes|testing|cli)/' },
    },
    {
      name: 'no-loose-files',
      comment: 'Every module but the main entry lives in its layer.',
      severity: 'error',
      from: {},
      to: { path: '^lib/[^/]+$', pathNot: '^lib/index\\.ts$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
