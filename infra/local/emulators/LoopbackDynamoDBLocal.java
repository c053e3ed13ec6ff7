import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

/**
 * Starts AWS's DynamoDB Local bound to 127.0.0.1 only. Its own main() binds Jetty to every
 * interface and has no host option, which would put an unauthenticated database on the
 * network; this launcher sets the connector's host before the server starts.
 *
 * Run with Java's single-file source launcher (JEP 330), so no javac is needed:
 *   java -cp DynamoDBLocal.jar LoopbackDynamoDBLocal.java -inMemory -sharedDb -port N
 */
public class LoopbackDynamoDBLocal {
  public static void main(String[] args) throws Exception {
    DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
    Field serverField = DynamoDBProxyServer.class.getDeclaredField("server");
    serverField.setAccessible(true);
    Server server = (Server) serverField.get(proxy);
    for (Connector connector : server.getConnectors()) {
      ((ServerConnector) connector).setHost("127.0.0.1");
    }
    proxy.start();
    // Dies with its parent: the Node process closes our stdin when it exits, however it exits.
    Thread watchdog = new Thread(() -> {
      try {
        while (System.in.read() != -1) {
          // ignore input
        }
      } catch (Exception ignored) {
        // stdin broken: the parent is gone
      }
      Runtime.getRuntime().halt(0);
    });
    watchdog.setDaemon(true);
    watchdog.start();
    System.out.println("fanout: DynamoDB Local listening on 127.0.0.1");
    proxy.join();
  }
}
