import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy on loopback in front of one endpoint, so a test can partition one client from a server that
 * others still reach. `cut()` is a partition as a gRPC client meets it: every open connection is reset at
 * once and new ones are refused (the port stops listening); `heal()` listens on the same port again.
 */
export interface TcpProxy {
  /** `http://127.0.0.1:<port>`: give this to the client instead of the target. */
  readonly url: string;
  cut(): Promise<void>;
  heal(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { readonly host: string; readonly port: number }): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };
  const accept = (client: Socket): void => {
    const upstream = connect(target.port, target.host);
    track(client);
    track(upstream);
    // Either side ending or failing ends the pair, as a broken path does.
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  };
  const listen = (port: number): Promise<Server> =>
    new Promise((resolve, reject) => {
      const server = createServer(accept);
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve(server));
    });
  let server: Server | undefined = await listen(0);
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the proxy has no TCP address');
  const port = address.port;
  const stopListening = async (): Promise<void> => {
    const closing = server;
    server = undefined;
    if (closing === undefined) return;
    const closed = new Promise<void>((resolve) => closing.close(() => resolve()));
    for (const socket of sockets) socket.resetAndDestroy();
    await closed;
  };
  return {
    url: `http://127.0.0.1:${port}`,
    cut: stopListening,
    async heal() {
      server ??= await listen(port);
    },
    close: stopListening,
  };
}
