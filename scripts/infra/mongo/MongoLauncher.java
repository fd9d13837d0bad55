// Runs mongo-java-server (MongoDB wire protocol, in-memory) on a chosen host and port.
// The library's own main class binds localhost:27017 only, which would collide with a
// developer's real mongod; hence this launcher. Java 17 runs it straight from source:
//   java -cp <classpath> MongoLauncher.java 127.0.0.1 27018
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;

public class MongoLauncher {
    public static void main(String[] args) throws Exception {
        String host = args.length > 0 ? args[0] : "127.0.0.1";
        int port = args.length > 1 ? Integer.parseInt(args[1]) : 27018;

        MongoServer server = new MongoServer(new MemoryBackend());
        server.bind(host, port);
        // down.sh sends SIGTERM; close the listening socket before the JVM goes away.
        Runtime.getRuntime().addShutdownHook(new Thread(server::shutdownNow, "mongo-shutdown"));
        System.out.println("MongoLauncher: listening on " + host + ":" + port);
        Thread.currentThread().join();
    }
}
