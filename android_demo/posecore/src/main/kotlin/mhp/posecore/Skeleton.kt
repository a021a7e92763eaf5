package mhp.posecore

import org.json.JSONObject

/** Joint names, bones and root, read from an mhp manifest's "joints" record (never hard-coded). */
class Skeleton(val names: List<String>, val bones: List<Pair<Int, Int>>, val root: Int) {
    companion object {
        fun fromJson(joints: JSONObject): Skeleton {
            val names = joints.getJSONArray("names")
            val bones = joints.getJSONArray("bones")
            return Skeleton(
                List(names.length()) { names.getString(it) },
                List(bones.length()) { bones.getJSONArray(it).let { b -> b.getInt(0) to b.getInt(1) } },
                joints.getInt("root"),
            )
        }
    }
}
