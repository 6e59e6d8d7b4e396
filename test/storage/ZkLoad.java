// Test harness: loads a data dir with Apache ZooKeeper's own recovery (FileTxnSnapLog + ZKDatabase,
// which checks both snapshot seals, every log checksum and every TxnDigest) and prints the tree as
// JSON in the layout of live_client_view.json. With "save", ZooKeeper then writes its own snapshot
// of the loaded tree, for the reverse check. Run as: java -cp <zookeeper jars> ZkLoad.java <dataDir> [save]
import java.io.File;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Stat;
import org.apache.zookeeper.server.DataNode;
import org.apache.zookeeper.server.DataTree;
import org.apache.zookeeper.server.ZKDatabase;
import org.apache.zookeeper.server.persistence.FileTxnSnapLog;

public class ZkLoad {
  static String hex(byte[] b) {
    if (b == null) return "";
    StringBuilder s = new StringBuilder();
    for (byte x : b) s.append(String.format("%02x", x));
    return s.toString();
  }

  static String str(String s) {
    StringBuilder out = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      if (c == '"' || c == '\\') out.append('\\').append(c);
      else if (c < 0x20 || c > 0x7e) out.append(String.format("\\u%04x", (int) c));
      else out.append(c);
    }
    return out.append('"').toString();
  }

  public static void main(String[] args) throws Exception {
    File dir = new File(args[0]);
    FileTxnSnapLog snapLog = new FileTxnSnapLog(dir, dir);
    ZKDatabase db = new ZKDatabase(snapLog);
    List<Long> mismatches = new ArrayList<>();
    db.getDataTree().addDigestWatcher(mismatches::add);
    long zxid = db.loadDataBase();
    DataTree dt = db.getDataTree();
    List<String> paths = new ArrayList<>();
    List<String> todo = new ArrayList<>();
    todo.add("/");
    while (!todo.isEmpty()) {
      String p = todo.remove(todo.size() - 1);
      paths.add(p);
      DataNode n = dt.getNode(p);
      for (String c : n.getChildren()) todo.add(p.equals("/") ? "/" + c : p + "/" + c);
    }
    Collections.sort(paths);
    StringBuilder out = new StringBuilder();
    out.append("{\"lastZxid\":").append(zxid).append(",\"digest\":\"").append(dt.getTreeDigest()).append("\",\"mismatches\":").append(mismatches);
    out.append(",\"sessions\":{");
    boolean first = true;
    for (Map.Entry<Long, Integer> e : db.getSessionWithTimeOuts().entrySet()) {
      out.append(first ? "" : ",").append("\"").append(Long.toUnsignedString(e.getKey(), 16)).append("\":").append(e.getValue());
      first = false;
    }
    out.append("},\"nodes\":{");
    first = true;
    for (String p : paths) {
      Stat st = new Stat();
      byte[] data = dt.getData(p, st, null);
      List<ACL> acl = dt.getACL(p, null);
      out.append(first ? "" : ",").append(str(p)).append(":{\"acl\":[");
      for (int i = 0; i < acl.size(); i++) {
        ACL a = acl.get(i);
        out.append(i == 0 ? "" : ",").append("{\"id\":").append(str(a.getId().getId())).append(",\"perms\":").append(a.getPerms()).append(",\"scheme\":").append(str(a.getId().getScheme())).append("}");
      }
      out.append("],\"data_hex\":\"").append(hex(data)).append("\",\"stat\":{");
      out.append("\"czxid\":").append(st.getCzxid()).append(",\"mzxid\":").append(st.getMzxid());
      out.append(",\"ctime\":").append(st.getCtime()).append(",\"mtime\":").append(st.getMtime());
      out.append(",\"version\":").append(st.getVersion()).append(",\"cversion\":").append(st.getCversion());
      out.append(",\"aversion\":").append(st.getAversion()).append(",\"ephemeralOwner\":\"").append(st.getEphemeralOwner());
      out.append("\",\"dataLength\":").append(st.getDataLength()).append(",\"numChildren\":").append(st.getNumChildren());
      out.append(",\"pzxid\":").append(st.getPzxid()).append("}}");
      first = false;
    }
    out.append("}}");
    System.out.println(out);
    if (args.length > 1 && args[1].equals("save")) snapLog.save(dt, db.getSessionWithTimeOuts(), true);
    snapLog.close();
  }
}
