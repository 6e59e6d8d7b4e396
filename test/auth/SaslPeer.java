// Test peer for test/auth/Interop.test.ts: the JDK's DIGEST-MD5 client/server configured exactly as
// ZooKeeper 3.8 configures them, the JDK's JAAS file parser, and ZooKeeper's IPAuthenticationProvider. Line protocol on stdin/stdout,
// tokens in hex. ZooKeeper's own callback handlers are used when its jar is on the classpath.
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import javax.security.auth.callback.Callback;
import javax.security.auth.callback.CallbackHandler;
import javax.security.auth.callback.NameCallback;
import javax.security.auth.callback.PasswordCallback;
import javax.security.auth.login.AppConfigurationEntry;
import javax.security.auth.login.Configuration;
import javax.security.sasl.AuthorizeCallback;
import javax.security.sasl.RealmCallback;
import javax.security.sasl.Sasl;
import javax.security.sasl.SaslClient;
import javax.security.sasl.SaslException;
import javax.security.sasl.SaslServer;

public class SaslPeer {
  static String hex(byte[] b) {
    if (b == null) return "-";
    StringBuilder sb = new StringBuilder();
    for (byte x : b) sb.append(String.format("%02x", x & 0xff));
    return sb.toString();
  }

  static byte[] unhex(String s) {
    if (s.equals("-")) return null;
    byte[] out = new byte[s.length() / 2];
    for (int i = 0; i < out.length; i++) out[i] = (byte) Integer.parseInt(s.substring(2 * i, 2 * i + 2), 16);
    return out;
  }

  static String text(String hexArg) { return new String(unhex(hexArg), StandardCharsets.UTF_8); }

  // Like org.apache.zookeeper.SaslClientCallbackHandler: default name and realm, the given password.
  static CallbackHandler clientHandler(String password) throws Exception {
    try {
      return (CallbackHandler) Class.forName("org.apache.zookeeper.SaslClientCallbackHandler")
          .getConstructor(String.class, String.class).newInstance(password, "Client");
    } catch (ClassNotFoundException e) {
      return callbacks -> {
        for (Callback cb : callbacks) {
          if (cb instanceof NameCallback) ((NameCallback) cb).setName(((NameCallback) cb).getDefaultName());
          else if (cb instanceof PasswordCallback) ((PasswordCallback) cb).setPassword(password.toCharArray());
          else if (cb instanceof RealmCallback) ((RealmCallback) cb).setText(((RealmCallback) cb).getDefaultText());
        }
      };
    }
  }

  // ZooKeeper's SaslServerCallbackHandler reads the JAAS "Server" section itself.
  static CallbackHandler serverHandler() throws Exception {
    return (CallbackHandler) Class.forName("org.apache.zookeeper.server.auth.SaslServerCallbackHandler")
        .getConstructor(Configuration.class).newInstance(Configuration.getConfiguration());
  }

  public static void main(String[] args) throws Exception {
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    switch (args[0]) {
      case "client": {
        // As SecurityUtils.createSaslClient: authorizationId = username, protocol "zookeeper", serverName "zk-sasl-md5".
        String user = text(args[1]);
        SaslClient c = Sasl.createSaslClient(new String[] {"DIGEST-MD5"}, user, "zookeeper", "zk-sasl-md5", null, clientHandler(text(args[2])));
        // As ZooKeeperSaslClient: no initial response → an empty token.
        System.out.println("TOKEN " + hex(c.hasInitialResponse() ? c.evaluateChallenge(new byte[0]) : new byte[0]));
        String line;
        while ((line = in.readLine()) != null) {
          try {
            byte[] r = c.evaluateChallenge(unhex(line.trim()));
            System.out.println((c.isComplete() ? "COMPLETE " : "TOKEN ") + hex(r));
          } catch (SaslException e) {
            System.out.println("ERROR " + e.getMessage());
            break;
          }
        }
        break;
      }
      case "server": {
        // As ZooKeeperSaslServer / SecurityUtils.createSaslServer for a DigestLoginModule subject.
        SaslServer s = Sasl.createSaslServer("DIGEST-MD5", "zookeeper", "zk-sasl-md5", null, serverHandler());
        String line;
        while ((line = in.readLine()) != null) {
          try {
            byte[] r = s.evaluateResponse(unhex(line.trim()));
            System.out.println(s.isComplete() ? "COMPLETE " + s.getAuthorizationID() + " " + hex(r) : "TOKEN " + hex(r));
          } catch (SaslException e) {
            System.out.println("ERROR " + e.getMessage());
            break;
          }
        }
        break;
      }
      case "server-cases": {
        // Like "server", but a "RESET" line starts a fresh server (answered "RESET") and an error
        // does not end the process, so one JVM judges a whole table of responses.
        SaslServer s = null;
        String line;
        while ((line = in.readLine()) != null) {
          if (line.equals("RESET")) {
            s = Sasl.createSaslServer("DIGEST-MD5", "zookeeper", "zk-sasl-md5", null, serverHandler());
            System.out.println("RESET");
            continue;
          }
          try {
            byte[] r = s.evaluateResponse(unhex(line.trim()));
            System.out.println(s.isComplete() ? "COMPLETE " + s.getAuthorizationID() + " " + hex(r) : "TOKEN " + hex(r));
          } catch (Exception e) {
            // Not only SaslException: a bad response can make the JDK throw others (still a refusal).
            System.out.println("ERROR " + e.getClass().getSimpleName() + ": " + e.getMessage());
          }
        }
        break;
      }
      case "ip": {
        // ZooKeeper's IPAuthenticationProvider: "VALID <expr hex>" → isValid, "MATCH <id hex> <expr hex>" → matches.
        Object p = Class.forName("org.apache.zookeeper.server.auth.IPAuthenticationProvider").getConstructor().newInstance();
        java.lang.reflect.Method isValid = p.getClass().getMethod("isValid", String.class);
        java.lang.reflect.Method matches = p.getClass().getMethod("matches", String.class, String.class);
        String line;
        while ((line = in.readLine()) != null) {
          String[] f = line.split(" ", -1);
          Object r = f[0].equals("VALID") ? isValid.invoke(p, text(f[1])) : matches.invoke(p, text(f[1]), text(f[2]));
          System.out.println(r);
        }
        break;
      }
      case "jaas": {
        // Print every requested section as parsed by the JDK (names/values hex-encoded).
        try {
          Configuration conf = Configuration.getConfiguration();
          for (int i = 1; i < args.length; i++) {
            String section = text(args[i]);
            AppConfigurationEntry[] entries = conf.getAppConfigurationEntry(section);
            if (entries == null) { System.out.println("MISSING " + args[i]); continue; }
            System.out.println("SECTION " + args[i]);
            for (AppConfigurationEntry e : entries) {
              String flag = e.getControlFlag().toString().replace("LoginModuleControlFlag: ", "");
              System.out.println("MODULE " + hex(e.getLoginModuleName().getBytes(StandardCharsets.UTF_8)) + " " + flag);
              for (Map.Entry<String, ?> o : e.getOptions().entrySet()) {
                System.out.println("OPTION " + hex(o.getKey().getBytes(StandardCharsets.UTF_8)) + " " + hex(((String) o.getValue()).getBytes(StandardCharsets.UTF_8)));
              }
            }
          }
        } catch (SecurityException e) {
          System.out.println("ERROR " + e.getMessage());
        }
        break;
      }
      default:
        throw new IllegalArgumentException(args[0]);
    }
  }
}
