package dev.keyturn.kubernetes;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP relay on a loopback port to another address, whose connections can be cut and whose port
 * can be closed and opened again: an API server that goes away and comes back, as its clients see
 * it (a broken stream, then refused connections), without stopping the server.
 */
final class TcpRelay implements AutoCloseable {
  private final InetSocketAddress target;
  private final List<Socket> open = new CopyOnWriteArrayList<>();
  private volatile ServerSocket listening;
  private boolean cut;
  private final int port;

  TcpRelay(String host, int targetPort) throws IOException {
    this.target = new InetSocketAddress(host, targetPort);
    ServerSocket first = listen(0);
    this.port = first.getLocalPort();
  }

  int port() {
    return port;
  }

  /** Closes the port and every relayed connection: connections are refused until {@link #open}. */
  synchronized void cut() throws IOException {
    cut = true;
    listening.close();
    for (Socket s : open) {
      s.close();
    }
    open.clear();
  }

  /** Listens on the same port again. */
  synchronized void open() throws IOException {
    cut = false;
    listen(port);
  }

  @Override
  public void close() throws IOException {
    cut();
  }

  private ServerSocket listen(int onPort) throws IOException {
    ServerSocket server = new ServerSocket();
    server.setReuseAddress(true);
    server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), onPort));
    listening = server;
    daemon("relay-accept", () -> accept(server));
    return server;
  }

  private void accept(ServerSocket server) {
    while (!server.isClosed()) {
      try {
        Socket in = server.accept();
        Socket out = new Socket(target.getAddress(), target.getPort());
        synchronized (this) {
          // A connection accepted while the relay was being cut is cut too.
          if (cut) {
            in.close();
            out.close();
            continue;
          }
          open.add(in);
          open.add(out);
        }
        pipe(in, out);
        pipe(out, in);
      } catch (IOException e) {
        return;
      }
    }
  }

  private void pipe(Socket from, Socket to) {
    daemon(
        "relay-pipe",
        () -> {
          try (InputStream in = from.getInputStream();
              OutputStream out = to.getOutputStream()) {
            in.transferTo(out);
          } catch (IOException e) {
            // Cut: the other direction ends as well.
          } finally {
            try {
              from.close();
              to.close();
            } catch (IOException e) {
              // Already closed.
            }
          }
        });
  }

  private static void daemon(String name, Runnable body) {
    Thread thread = new Thread(body, name);
    thread.setDaemon(true);
    thread.start();
  }
}
